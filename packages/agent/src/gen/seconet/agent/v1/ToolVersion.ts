// Original file: proto/seconet/agent/v1/agent.proto


export interface ToolVersion {
  'tool'?: (string);
  'path'?: (string);
  'version'?: (string);
}

export interface ToolVersion__Output {
  'tool': (string);
  'path': (string);
  'version': (string);
}
