// Underlay packet captures: the agent's half of the controller's wire check.
export { createCaptureManager, tcpdumpArgv, CAPTURE_MAX_PACKETS, CAPTURE_SNAPLEN, type CaptureManager, type CaptureDeps } from './capture.js';
export { analyzeCapture, encapsulationOf, parsePcap, type CaptureAnalysis, type EncapsulationCount, type PcapPacket } from './pcap.js';
