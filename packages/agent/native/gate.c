// sn-gate: a start barrier for workload tools. The agent starts every client of a call as
// `sn-gate TOOL ARGS...` with stdin the read end of one FIFO shared by the whole call; each one
// blocks here, already forked, in its namespace and pinned. Once every client is waiting, the
// agent writes one byte per client to the FIFO in a single write, every sn-gate takes one byte
// and replaces itself with TOOL (execv: same PID, so stopping by PID still works). Forking
// hundreds of tools from the agent takes seconds; releasing them is one system call.
//
// stdin: one byte releases; end of file without a byte (the agent closed its write end: the
// run was stopped, or the agent died) exits 125 without running TOOL. The agent opens the read
// end non-blocking (so that opening does not wait for a writer); the gate makes it blocking.
// TOOL must be an absolute path; nothing is looked up in PATH and no shell is involved. After
// the release, stdin is /dev/null.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] != '/') {
    fprintf(stderr, "sn-gate: usage: sn-gate /ABSOLUTE/TOOL [ARGS...]\n");
    return 2;
  }
  int flags = fcntl(0, F_GETFL);
  if (flags < 0 || ((flags & O_NONBLOCK) && fcntl(0, F_SETFL, flags & ~O_NONBLOCK) < 0)) {
    fprintf(stderr, "sn-gate: stdin: %s\n", strerror(errno));
    return 125;
  }
  char c;
  ssize_t n;
  do {
    n = read(0, &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    fprintf(stderr, "sn-gate: reading the release from stdin: %s\n", strerror(errno));
    return 125;
  }
  if (n == 0) {
    fprintf(stderr, "sn-gate: stdin closed before the release: %s not started\n", argv[1]);
    return 125;
  }
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0) {
    fprintf(stderr, "sn-gate: /dev/null as stdin: %s\n", strerror(errno));
    return 125;
  }
  close(null);
  execv(argv[1], argv + 1);
  fprintf(stderr, "sn-gate: exec %s: %s\n", argv[1], strerror(errno));
  return 127;
}
