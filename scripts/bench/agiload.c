/*
 * agiload: a FastAGI load generator that plays Asterisk over TCP.
 *
 * Part of agikit's benchmark (scripts/bench). Single-threaded, epoll, non-blocking sockets, so that
 * it costs less CPU than the server it drives. Written for Linux; compiled by scripts/bench/run.mjs
 * with the system C compiler.
 *
 * Modes
 *   load  N connections in a closed loop. Each connection sends an Asterisk 22 header, checks that
 *         the server sends exactly the six commands of the standard call flow (byte for byte), answers
 *         each with a realistic reply, waits for the server's EOF, closes, and starts the next call.
 *         Prints one JSON object with throughput, latency percentiles, errors, and the server's CPU
 *         time and RSS over the measurement window (read from /proc/<pid>).
 *   idle  Opens N calls that send the header, receive the first command (ANSWER) and are then left
 *         waiting, unanswered. Prints "READY {json}" once all N wait, then holds them until a line
 *         arrives on stdin (or stdin closes), closes them all, and prints "CLOSED".
 *   open  Open loop, as callers arrive: calls start at a fixed --rate per second whatever the server's
 *         pace (a call that cannot get a slot among --conc is counted as dropped), and each reply is
 *         sent --think ms after its command arrived (an IVR's prompts and pauses), so the server
 *         serves many calls that are mostly idle. Prints one JSON object like load mode's, with the
 *         offered and achieved rates; the command round trip is measured as in load mode.
 *   soak  The load flow for --duration seconds, with --hostile calls per thousand played by a hostile
 *         Asterisk, in turn: reset (RST mid-header or at a random command), junk (stray lines, some
 *         not UTF-8, before a reply; the call must still complete), stall (half a header, or no reply
 *         to a command: the server must close it by its header or command timeout), flood (a
 *         free-text value that never closes: the server must close it). Prints "PROGRESS {json}"
 *         every --report seconds and a final JSON line. Errors of ordinary calls and hostile calls
 *         that did not end as expected are counted apart.
 *
 * Usage: agiload --mode load --port P --conc N --warmup S --duration S [--pid PID] [--host IP]
 *                [--split-header] [--spin] [--flow plain|relay|relay-prompt]
 *        agiload --mode idle --port P --count N [--batch B]
 *        agiload --mode open --port P --rate R --think MS --warmup S --duration S [--conc MAXCALLS] [--pid PID]
 *        agiload --mode soak --port P --conc N --duration S --hostile PERMILLE [--report S] [--pid PID]
 *   --pid           server process whose CPU time (all threads) and RSS are read over the window
 *   --split-header  one write() per header line, as Asterisk does (default: the header in one write)
 *   --spin          never sleep in epoll_wait (analysis only: the server never pays to wake us)
 *   --flow          the command sequence expected (default plain, the six commands; see enum flow)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RBUF 512
#define MAXSTEPS 10 /* commands of the longest flow (relay-prompt) */

enum state { S_FREE = 0, S_CONNECTING, S_RUNNING, S_AWAIT_EOF, S_IDLE_WAIT, S_HOSTILE_WAIT, S_THINK };

/* Soak mode: what a hostile call does (see the header comment). */
enum hostile { H_NONE = 0, H_RESET, H_JUNK, H_STALL, H_FLOOD, H_KINDS };
static const char *hostile_names[H_KINDS] = {"none", "reset", "junk", "stall", "flood"};

struct conn {
  int fd;
  int state;
  int step;            /* index of the next expected command */
  int slot;            /* closed-loop slot (load mode) */
  uint32_t seq;        /* call number: drives the customer id and the digits */
  uint64_t t_start;    /* connect() time */
  uint64_t t_stim;     /* when we last wrote (header or reply) */
  int hostile;         /* soak: enum hostile */
  int hstep;           /* soak: the command at which it acts (-1: in the header) */
  int rlen;
  char rbuf[RBUF];
  char expect[MAXSTEPS][96];
  int expect_len[MAXSTEPS];
  char reply[MAXSTEPS][64];
  int reply_len[MAXSTEPS];
};

/* ---------- options ---------- */
static const char *opt_mode = "load";
static const char *opt_host = "127.0.0.1";
static int opt_port = 0;
static int opt_conc = 1;
static double opt_warmup = 1.0;
static double opt_duration = 3.0;
static int opt_pid = 0;
static int opt_pids[64]; /* --pid A,B,C: a server of several processes (workers); figures are summed */
static int opt_npids = 0;
static int opt_count = 10000;
static int opt_batch = 256;
static int opt_split_header = 0; /* 1: one write() per header line, as Asterisk does */
static int opt_spin = 0;         /* 1: never sleep in epoll_wait (analysis only: the server never has to wake us) */
static int opt_hostile = 0;      /* soak: hostile calls per thousand */
static double opt_report = 30.0; /* soak: seconds between PROGRESS lines */
/* The flow the server must send: plain (the six commands), relay (what the Relay `Call` sends for the
 * same work: CHANNEL STATUS first, a play without escape digits), relay-prompt (relay, with the PIN
 * collected by a Relay prompt: STREAM FILE with every key as escape digit, then WAIT FOR DIGIT). */
enum flow { F_PLAIN = 0, F_RELAY, F_RELAY_PROMPT };
static int opt_flow = F_PLAIN;
static int nsteps = 6; /* commands of the flow (set by prepare_call) */
static double opt_rate = 100.0;  /* open: calls started per second */
static double opt_think = 0.0;   /* open: ms between a command's arrival and its reply */

/* ---------- state ---------- */
static int epfd;
static struct conn *conns;
static int nconns;
static uint32_t next_seq = 1;
static struct sockaddr_in addr;

static int measuring = 0; /* inside the window */
static int stopping = 0;  /* no new calls */

static uint64_t *cmd_lat;
static size_t cmd_lat_n, cmd_lat_cap;
static uint64_t *step_lat[MAXSTEPS];
static size_t step_lat_n[MAXSTEPS], step_lat_cap[MAXSTEPS];
static uint64_t *sess_lat;
static size_t sess_lat_n, sess_lat_cap;
static uint64_t sessions_ok, commands_ok;
static uint64_t *slot_sessions;

static uint64_t err_connect, err_reset, err_mismatch, err_early_eof, err_extra, err_overflow, err_write;
static char first_error[512];
/* Soak: ordinary calls completed; hostile calls started, ended as expected, and not. */
static uint64_t soak_ok, h_started[H_KINDS], h_expected[H_KINDS], h_unexpected[H_KINDS];
static char first_hostile_error[512];
static uint64_t err_stuck; /* soak: an ordinary call with no progress for 30 s */
static uint32_t hostile_turn;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "agiload: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static void push(uint64_t **arr, size_t *n, size_t *cap, uint64_t v) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 65536;
    *arr = realloc(*arr, *cap * sizeof(uint64_t));
    if (!*arr) die("out of memory");
  }
  (*arr)[(*n)++] = v;
}

static void note_error(uint64_t *counter, struct conn *c, const char *what, const char *got, int gotlen) {
  char *first = first_error;
  if (c && c->hostile) { /* a hostile call that did not end as it should: counted apart */
    counter = &h_unexpected[c->hostile];
    first = first_hostile_error;
  }
  (*counter)++;
  if (!first[0]) {
    snprintf(first, sizeof first_error, "call %u step %d%s%s: %s%s%.*s", c ? c->seq : 0, c ? c->step : -1,
             c && c->hostile ? " hostile " : "", c && c->hostile ? hostile_names[c->hostile] : "", what, got ? ": " : "",
             got ? (gotlen > 200 ? 200 : gotlen) : 0, got ? got : "");
  }
}

/* ---------- the call flow ---------- */

static int build_header(struct conn *c, char *out, size_t cap) {
  const char *script = opt_flow == F_PLAIN ? "ivr/main" : "relay/ivr";
  return snprintf(out, cap,
                  "agi_network: yes\n"
                  "agi_network_script: %s\n"
                  "agi_request: agi://127.0.0.1:%d/%s\n"
                  "agi_channel: PJSIP/alice-%08x\n"
                  "agi_language: en\n"
                  "agi_type: PJSIP\n"
                  "agi_uniqueid: 1723456789.%u\n"
                  "agi_version: 22.10.1\n"
                  "agi_callerid: 5551234\n"
                  "agi_calleridname: Alice Example\n"
                  "agi_callingpres: 0\n"
                  "agi_callingani2: 0\n"
                  "agi_callington: 0\n"
                  "agi_callingtns: 0\n"
                  "agi_dnid: 6000\n"
                  "agi_rdnis: unknown\n"
                  "agi_context: from-internal\n"
                  "agi_extension: 6000\n"
                  "agi_priority: 2\n"
                  "agi_enhanced: 0.0\n"
                  "agi_accountcode: \n"
                  "agi_threadid: 140123456789504\n"
                  "agi_arg_1: %u\n"
                  "\n",
                  script, opt_port, script, c->seq, c->seq, 100000 + c->seq % 900000);
}

static void prepare_call(struct conn *c) {
  unsigned cust = 100000 + c->seq % 900000;
  char digits[8];
  snprintf(digits, sizeof digits, "%04u", (c->seq * 7919u) % 10000u);
  int k = 0;
#define EXP(...) c->expect_len[k] = snprintf(c->expect[k], sizeof c->expect[k], __VA_ARGS__)
#define REP(...) c->reply_len[k] = snprintf(c->reply[k], sizeof c->reply[k], __VA_ARGS__), k++
  if (opt_flow != F_PLAIN) { /* a Relay Call reads the channel's state first: Ring, before ANSWER */
    EXP("CHANNEL STATUS\n");
    REP("200 result=4\n");
  }
  EXP("ANSWER\n");
  REP("200 result=0\n");
  EXP("GET VARIABLE \"CALLERID(num)\"\n");
  REP("200 result=1 (5551234)\n");
  EXP("DATABASE GET \"cust\" \"%u\"\n", cust);
  REP("200 result=1 (gold)\n");
  EXP("STREAM FILE \"welcome\" \"%s\"\n", opt_flow == F_PLAIN ? "#" : ""); /* a Relay play has no escape digits */
  REP("200 result=0 endpos=12000\n");
  if (opt_flow == F_RELAY_PROMPT) { /* the first key cuts the prompt's file; then one WAIT FOR DIGIT per digit */
    EXP("STREAM FILE \"enter-pin\" \"0123456789*#ABCD\"\n");
    REP("200 result=%d endpos=4000\n", digits[0]);
    for (int d = 1; d < 4; d++) {
      EXP("WAIT FOR DIGIT \"3000\"\n");
      REP("200 result=%d\n", digits[d]);
    }
  } else {
    EXP("GET DATA \"enter-pin\" \"3000\" \"4\"\n");
    REP("200 result=%s\n", digits);
  }
  EXP("SET VARIABLE \"RESULT\" \"%s\"\n", digits);
  REP("200 result=1\n");
  nsteps = k;
#undef EXP
#undef REP
}

static void start_call(int slot);
static void close_conn(struct conn *c, int restart);
static void send_reply(struct conn *c);
static void think_later(struct conn *c, uint64_t t);
static void free_slot(int slot);

/* Closes with a TCP reset instead of a FIN (a crashed or killed Asterisk). */
static void reset_conn(struct conn *c) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close_conn(c, 1);
}

/* A hostile call ended the way it should: count it and start the next call. */
static void hostile_done(struct conn *c) {
  h_expected[c->hostile]++;
  close_conn(c, 1);
}

/* Soak: whether this call is hostile, how, and where (spread evenly over kinds, steps and variants). */
static void choose_hostility(struct conn *c) {
  c->hostile = H_NONE;
  if (*opt_mode != 's' || opt_hostile <= 0) return;
  uint32_t h = c->seq * 2654435761u;
  if ((h >> 7) % 1000 >= (uint32_t)opt_hostile) return;
  uint32_t turn = hostile_turn++;
  c->hostile = 1 + (int)(turn % (H_KINDS - 1));
  c->hstep = (int)((turn / (H_KINDS - 1)) % (nsteps + 1)) - 1; /* -1: in the header */
  if (c->hostile == H_JUNK && c->hstep < 0) c->hstep = 0;
  if (c->hostile == H_FLOOD) c->hstep = 1; /* GET VARIABLE: a free-text reply */
  h_started[c->hostile]++;
}

/* Junk before a reply: stray lines, some empty, some not valid UTF-8, none that looks like AGI. */
static int write_junk(struct conn *c) {
  char junk[4096];
  int len = 0;
  int lines = 1 + (int)(c->seq % 40);
  for (int i = 0; i < lines && len < (int)sizeof junk - 100; i++) {
    int n = (int)((c->seq * 31u + (unsigned)i * 17u) % 80u);
    if (i % 7 == 3) n = 0;
    junk[len++] = '#';
    for (int k = 0; k < n; k++) junk[len++] = (char)(i % 5 == 1 ? 0x80 + (k % 60) : 'a' + (k + i) % 26);
    junk[len++] = '\n';
  }
  return write(c->fd, junk, len) == len ? 0 : -1;
}

/* A free-text value that never closes: its start, then 8 KiB lines until the socket is full or 800 KiB. */
static void write_flood(struct conn *c) {
  static char line[8193];
  if (!line[0]) {
    memset(line, 'v', 8192);
    line[8192] = '\n';
  }
  if (write(c->fd, "200 result=1 (start\n", 20) != 20) return;
  for (int i = 0; i < 100; i++)
    if (write(c->fd, line, sizeof line) != (ssize_t)sizeof line) return;
}

static void close_conn(struct conn *c, int restart) {
  int slot = c->slot;
  if (c->fd >= 0) close(c->fd); /* also removes it from the epoll set */
  c->fd = -1;
  c->state = S_FREE;
  if (*opt_mode == 'o') { /* open loop: calls start by the clock, never to replace one */
    free_slot(slot);
    return;
  }
  if (restart && !stopping) start_call(slot);
}

/* Sends the header, in one write() or one per line (--split-header, as Asterisk does). A loopback
 * handshake has usually completed inside connect(); if not, the first write() says EAGAIN and we wait
 * for EPOLLOUT. */
static void try_send_header(struct conn *c) {
  char hdr[1024];
  int len = build_header(c, hdr, sizeof hdr);
  c->t_stim = now_ns();
  if (c->hostile && c->hstep < 0 && c->hostile != H_JUNK) {
    /* Half a header, then: a reset, or nothing more (the server must time it out). */
    ssize_t n = write(c->fd, hdr, len / 2);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && c->state == S_CONNECTING) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    if (c->hostile == H_RESET) {
      h_expected[H_RESET]++;
      reset_conn(c);
      return;
    }
    c->state = S_HOSTILE_WAIT;
    return;
  }
  int start = 0;
  while (start < len) {
    int end = len;
    if (opt_split_header) {
      end = start;
      while (hdr[end] != '\n') end++;
      end++;
    }
    ssize_t n = write(c->fd, hdr + start, end - start);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && start == 0 && c->state == S_CONNECTING) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    if (n != end - start) {
      note_error(n < 0 && c->state == S_CONNECTING ? &err_connect : &err_write, c, n < 0 ? strerror(errno) : "short write",
                 NULL, 0);
      close_conn(c, 1);
      return;
    }
    start = end;
  }
  c->state = S_RUNNING;
}

static void start_call(int slot) {
  struct conn *c = &conns[slot];
  c->slot = slot;
  c->seq = next_seq++;
  c->step = 0;
  c->rlen = 0;
  choose_hostility(c);
  prepare_call(c);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->t_start = now_ns();
  int r = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
  if (r != 0 && errno != EINPROGRESS) {
    note_error(&err_connect, c, strerror(errno), NULL, 0);
    close(c->fd);
    c->fd = -1;
    c->state = S_FREE;
    return; /* the main loop restarts free slots */
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  c->state = S_CONNECTING;
  try_send_header(c);
}

static void on_line(struct conn *c, const char *line, int len, uint64_t t) {
  if (c->state == S_AWAIT_EOF || c->state == S_IDLE_WAIT || c->state == S_HOSTILE_WAIT || c->state == S_THINK || c->step >= nsteps) {
    note_error(&err_extra, c, "unexpected extra line", line, len);
    close_conn(c, 1);
    return;
  }
  int i = c->step;
  if (len != c->expect_len[i] || memcmp(line, c->expect[i], len) != 0) {
    note_error(&err_mismatch, c, "unexpected command", line, len);
    close_conn(c, 1);
    return;
  }
  if (measuring) {
    push(&cmd_lat, &cmd_lat_n, &cmd_lat_cap, t - c->t_stim);
    push(&step_lat[i], &step_lat_n[i], &step_lat_cap[i], t - c->t_stim);
    commands_ok++;
  }
  if (*opt_mode == 'i') { /* idle mode: got ANSWER, now wait forever */
    c->step = 1;
    c->state = S_IDLE_WAIT;
    return;
  }
  if (*opt_mode == 'o' && opt_think > 0) { /* open loop: the reply goes out after the think time */
    think_later(c, t);
    return;
  }
  send_reply(c);
}

/* Writes the reply to the command just received (step c->step) and moves on. */
static void send_reply(struct conn *c) {
  int i = c->step;
  c->t_stim = now_ns();
  if (c->hostile && c->step == c->hstep) {
    switch (c->hostile) {
      case H_RESET:
        h_expected[H_RESET]++;
        reset_conn(c);
        return;
      case H_STALL:
        c->state = S_HOSTILE_WAIT; /* no reply: the server's command timeout must end it */
        return;
      case H_FLOOD:
        write_flood(c);
        c->state = S_HOSTILE_WAIT; /* the server must close it at its reply bound */
        return;
      case H_JUNK:
        if (write_junk(c) != 0) {
          note_error(&err_write, c, "junk write failed", NULL, 0);
          close_conn(c, 1);
          return;
        }
        break; /* then the real reply: the call must go on */
    }
  }
  ssize_t n;
  do n = write(c->fd, c->reply[i], c->reply_len[i]);
  while (n < 0 && errno == EINTR);
  if (n != c->reply_len[i]) { /* EAGAIN on a few bytes would mean the server stopped reading: count it */
    note_error(&err_write, c, n < 0 ? strerror(errno) : "short write", NULL, 0);
    close_conn(c, 1);
    return;
  }
  c->step++;
  if (c->step == nsteps) c->state = S_AWAIT_EOF;
}

static void on_readable(struct conn *c) {
  for (;;) {
    ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      if (c->state == S_HOSTILE_WAIT) { /* the server closed it with a reset: as good as a FIN here */
        hostile_done(c);
        return;
      }
      note_error(&err_reset, c, strerror(errno), NULL, 0);
      close_conn(c, 1);
      return;
    }
    uint64_t t = now_ns();
    if (n == 0) {
      if (c->state == S_HOSTILE_WAIT) {
        hostile_done(c);
        return;
      }
      if (c->state == S_AWAIT_EOF && c->rlen == 0 && c->hostile == H_JUNK) {
        hostile_done(c);
        return;
      }
      if (c->state == S_AWAIT_EOF && c->rlen == 0) {
        soak_ok++;
        if (measuring) {
          sessions_ok++;
          slot_sessions[c->slot]++;
          push(&sess_lat, &sess_lat_n, &sess_lat_cap, t - c->t_start);
        }
        close_conn(c, 1);
      } else {
        note_error(&err_early_eof, c, "server closed before the call flow ended", c->rbuf, c->rlen);
        close_conn(c, 1);
      }
      return;
    }
    int filled = c->rlen + (int)n == RBUF;
    c->rlen += (int)n;
    int start = 0;
    for (int i = 0; i < c->rlen; i++) {
      if (c->rbuf[i] == '\n') {
        int fd = c->fd;
        uint32_t seq = c->seq;
        on_line(c, c->rbuf + start, i + 1 - start, t);
        if (c->fd != fd || c->seq != seq || c->state == S_FREE) return; /* closed (and maybe restarted) */
        start = i + 1;
      }
    }
    if (start > 0) {
      memmove(c->rbuf, c->rbuf + start, c->rlen - start);
      c->rlen -= start;
    }
    if (c->rlen == RBUF) {
      note_error(&err_overflow, c, "line longer than the read buffer", c->rbuf, c->rlen);
      close_conn(c, 1);
      return;
    }
    /* The server sends nothing more until we answer, so a read that did not fill the buffer emptied
     * the socket: skip the read() that would only say EAGAIN (level-triggered epoll reports the rest). */
    if (!filled) return;
  }
}

static void on_event(struct conn *c, uint32_t events) {
  if (c->state == S_CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      note_error(&err_connect, c, strerror(err), NULL, 0);
      close_conn(c, 1);
      return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    try_send_header(c);
    if (c->state != S_RUNNING) return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
}

/* ---------- measurements ---------- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, double p) {
  if (n == 0) return 0;
  size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
  if (i >= n) i = n - 1;
  return (double)v[i] / 1000.0; /* microseconds */
}

static double mean(uint64_t *v, size_t n) {
  if (n == 0) return 0;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)v[i];
  return s / (double)n / 1000.0;
}

struct proc_sample {
  double cpu_s;     /* utime + stime, all threads */
  double user_s;
  double sys_s;
  long rss_kib;
  long hwm_kib;
};

static int read_proc_one(int pid, struct proc_sample *out);

/* The server's figures: one process, or the sum over every --pid given. */
static int read_proc(int pid, struct proc_sample *out) {
  if (opt_npids <= 1) return read_proc_one(pid, out);
  memset(out, 0, sizeof *out);
  for (int i = 0; i < opt_npids; i++) {
    struct proc_sample one;
    if (read_proc_one(opt_pids[i], &one) != 0) continue;
    out->cpu_s += one.cpu_s;
    out->user_s += one.user_s;
    out->sys_s += one.sys_s;
    out->rss_kib += one.rss_kib;
    out->hwm_kib += one.hwm_kib;
  }
  return 0;
}

static int read_proc_one(int pid, struct proc_sample *out) {
  char path[64], buf[4096];
  memset(out, 0, sizeof *out);
  if (pid <= 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* comm may contain spaces */
  if (!p) return -1;
  p += 2;
  /* fields after comm: state(3) ... utime(14) stime(15) */
  unsigned long utime = 0, stime = 0;
  int field = 3;
  char *save = NULL;
  for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
    if (field == 14) utime = strtoul(tok, NULL, 10);
    if (field == 15) {
      stime = strtoul(tok, NULL, 10);
      break;
    }
  }
  double hz = (double)sysconf(_SC_CLK_TCK);
  out->cpu_s = (double)(utime + stime) / hz;
  out->user_s = (double)utime / hz;
  out->sys_s = (double)stime / hz;
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "VmRSS:", 6)) out->rss_kib = strtol(line + 6, NULL, 10);
    if (!strncmp(line, "VmHWM:", 6)) out->hwm_kib = strtol(line + 6, NULL, 10);
  }
  fclose(f);
  return 0;
}

/* Machine-wide CPU time (all CPUs), from the first line of /proc/stat. */
struct machine_sample {
  double busy_s, irq_s, idle_s;
};

static void read_machine(struct machine_sample *m) {
  memset(m, 0, sizeof *m);
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return;
  unsigned long long v[10] = {0};
  if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) >= 8) {
    double hz = (double)sysconf(_SC_CLK_TCK);
    m->busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz; /* user nice system irq softirq steal */
    m->irq_s = (double)(v[5] + v[6]) / hz;
    m->idle_s = (double)(v[3] + v[4]) / hz;
  }
  fclose(f);
}

static double self_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Prints text for inside a JSON string (the quotes are the caller's). */
static void print_json_text(const char *text) {
  for (const char *s = text; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s < 32 || (unsigned char)*s >= 127) {
      printf("\\u%04x", (unsigned char)*s);
      continue;
    }
    putchar(*s);
  }
}

/* ---------- main loops ---------- */

static void alloc_conns(int n) {
  nconns = n;
  conns = calloc(nconns, sizeof *conns);
  slot_sessions = calloc(nconns, sizeof *slot_sessions);
  if (!conns || !slot_sessions) die("out of memory");
  for (int i = 0; i < nconns; i++) conns[i].fd = -1;
}

static void poll_once(int timeout_ms) {
  struct epoll_event evs[1024];
  int n = epoll_wait(epfd, evs, 1024, opt_spin ? 0 : timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return;
    die("epoll_wait: %s", strerror(errno));
  }
  for (int i = 0; i < n; i++) {
    struct conn *c = evs[i].data.ptr;
    if (c->state == S_FREE) continue; /* closed earlier in this batch */
    on_event(c, evs[i].events);
  }
}

/* Errors a plain call can end with, all kinds together. */
static uint64_t call_errors(void) {
  return err_connect + err_reset + err_mismatch + err_early_eof + err_extra + err_overflow + err_write;
}

/* Calls in progress. */
static int live_calls(void) {
  int live = 0;
  for (int i = 0; i < nconns; i++) live += conns[i].state != S_FREE;
  return live;
}

/* At the end of a run, after the drain: closes the calls still in progress and says how many. */
static int abandon_calls(void) {
  int abandoned = 0;
  for (int i = 0; i < nconns; i++)
    if (conns[i].state != S_FREE) {
      abandoned++;
      close_conn(&conns[i], 0);
    }
  return abandoned;
}

/* One edge of the measured window: the server's CPU and memory, the machine's, the generator's CPU,
 * and the time. The clock is read last when the window opens and first when it closes, so that the
 * reads themselves fall outside it. */
struct window_edge {
  struct proc_sample server;
  struct machine_sample machine;
  double gen_cpu_s;
  uint64_t at_ns;
};

static void read_edge(struct window_edge *w) {
  read_proc(opt_pid, &w->server);
  read_machine(&w->machine);
  w->gen_cpu_s = self_cpu_s();
}
static void window_opens(struct window_edge *w) {
  read_edge(w);
  w->at_ns = now_ns();
}
static void window_closes(struct window_edge *w) {
  w->at_ns = now_ns();
  read_edge(w);
}

static int run_load(void) {
  alloc_conns(opt_conc);
  uint64_t t0 = now_ns();
  uint64_t t_measure = t0 + (uint64_t)(opt_warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(opt_duration * 1e9);
  for (int i = 0; i < nconns; i++) start_call(i);
  struct window_edge w0 = {0}, w1 = {0};
  uint64_t errors_before = 0;
  for (;;) {
    uint64_t t = now_ns();
    if (!measuring && !stopping && t >= t_measure) {
      errors_before = call_errors();
      window_opens(&w0);
      measuring = 1;
    }
    if (measuring && t >= t_end) {
      window_closes(&w1);
      measuring = 0;
      stopping = 1;
      break;
    }
    /* Restart slots whose connect failed outright. */
    for (int i = 0; i < nconns; i++)
      if (conns[i].state == S_FREE) start_call(i);
    poll_once(5);
  }
  /* Drain: let calls in flight finish so the server sees no aborted calls. */
  uint64_t t_drain = now_ns() + 5000000000ull;
  while (live_calls() && now_ns() <= t_drain) poll_once(5);
  int abandoned = abandon_calls();
  uint64_t errors = call_errors();
  double secs = (double)(w1.at_ns - w0.at_ns) / 1e9;
  qsort(cmd_lat, cmd_lat_n, sizeof *cmd_lat, cmp_u64);
  qsort(sess_lat, sess_lat_n, sizeof *sess_lat, cmp_u64);
  /* Fairness across the N closed-loop slots: Jain's index of calls completed per slot (1 = perfectly even). */
  double sx = 0, sxx = 0;
  uint64_t smin = UINT64_MAX, smax = 0;
  for (int i = 0; i < nconns; i++) {
    double x = (double)slot_sessions[i];
    sx += x;
    sxx += x * x;
    if (slot_sessions[i] < smin) smin = slot_sessions[i];
    if (slot_sessions[i] > smax) smax = slot_sessions[i];
  }
  double jain = sxx > 0 ? sx * sx / ((double)nconns * sxx) : 0;
  double server_cpu = w1.server.cpu_s - w0.server.cpu_s;
  for (int i = 0; i < nsteps; i++) qsort(step_lat[i], step_lat_n[i], sizeof(uint64_t), cmp_u64);
  printf("{\"mode\":\"load\",\"conc\":%d,\"seconds\":%.4f,\"sessions\":%lu,\"commands\":%lu,"
         "\"sessionsPerSec\":%.1f,\"commandsPerSec\":%.1f,"
         "\"cmdUs\":{\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},"
         "\"sessionUs\":{\"mean\":%.1f,\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
         "\"errors\":%lu,\"errorsInWindow\":%lu,\"errorKinds\":{\"connect\":%lu,\"reset\":%lu,\"mismatch\":%lu,\"earlyEof\":%lu,"
         "\"extra\":%lu,\"overflow\":%lu,\"write\":%lu},\"abandonedAtEnd\":%d,\"firstError\":\"",
         opt_conc, secs, (unsigned long)sessions_ok, (unsigned long)commands_ok, sessions_ok / secs, commands_ok / secs,
         mean(cmd_lat, cmd_lat_n), pct(cmd_lat, cmd_lat_n, 50), pct(cmd_lat, cmd_lat_n, 90), pct(cmd_lat, cmd_lat_n, 99),
         pct(cmd_lat, cmd_lat_n, 99.9), pct(cmd_lat, cmd_lat_n, 100), mean(sess_lat, sess_lat_n), pct(sess_lat, sess_lat_n, 50),
         pct(sess_lat, sess_lat_n, 99), pct(sess_lat, sess_lat_n, 100), (unsigned long)errors,
         (unsigned long)(errors - errors_before), (unsigned long)err_connect, (unsigned long)err_reset,
         (unsigned long)err_mismatch, (unsigned long)err_early_eof, (unsigned long)err_extra, (unsigned long)err_overflow,
         (unsigned long)err_write, abandoned);
  print_json_text(first_error);
  printf("\",\"stepUs\":[");
  for (int i = 0; i < nsteps; i++)
    printf("%s{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}", i ? "," : "", pct(step_lat[i], step_lat_n[i], 50),
           pct(step_lat[i], step_lat_n[i], 99), pct(step_lat[i], step_lat_n[i], 100));
  printf("],\"fairness\":{\"jain\":%.4f,\"minPerSlot\":%lu,\"maxPerSlot\":%lu},"
         "\"server\":{\"cpuSeconds\":%.3f,\"userSeconds\":%.3f,\"sysSeconds\":%.3f,\"cpuUsPerSession\":%.2f,\"rssKiB\":%ld,\"hwmKiB\":%ld},"
         "\"generator\":{\"cpuSeconds\":%.3f,\"cpuUsPerSession\":%.2f},"
         "\"machine\":{\"busySeconds\":%.3f,\"irqSeconds\":%.3f,\"idleSeconds\":%.3f}}\n",
         jain, (unsigned long)(smin == UINT64_MAX ? 0 : smin), (unsigned long)smax, server_cpu, w1.server.user_s - w0.server.user_s, w1.server.sys_s - w0.server.sys_s,
         sessions_ok ? server_cpu * 1e6 / (double)sessions_ok : 0, w1.server.rss_kib, w1.server.hwm_kib, w1.gen_cpu_s - w0.gen_cpu_s,
         sessions_ok ? (w1.gen_cpu_s - w0.gen_cpu_s) * 1e6 / (double)sessions_ok : 0, w1.machine.busy_s - w0.machine.busy_s, w1.machine.irq_s - w0.machine.irq_s,
         w1.machine.idle_s - w0.machine.idle_s);
  fflush(stdout);
  return 0;
}

/* ---------- open loop ---------- */

/* Free slots (a stack), and replies waiting for their think time: a FIFO, since every think time is
 * the same, so due times come in order. Each call has at most one reply waiting. */
static int *free_slots;
static int nfree;
struct due {
  int slot;
  uint32_t seq;
  uint64_t at;
};
static struct due *dueq;
static size_t due_head, due_tail, due_cap;
static uint64_t open_started, open_dropped;

static void free_slot(int slot) { free_slots[nfree++] = slot; }

static void think_later(struct conn *c, uint64_t t) {
  if (due_tail - due_head == due_cap) die("open loop: too many replies waiting (raise --conc)");
  c->state = S_THINK;
  dueq[due_tail % due_cap] = (struct due){.slot = c->slot, .seq = c->seq, .at = t + (uint64_t)(opt_think * 1e6)};
  due_tail++;
}

/* Sends the replies whose think time is over; returns ns until the next one (or `cap`). */
static uint64_t send_due(uint64_t now, uint64_t cap) {
  while (due_head < due_tail) {
    struct due *d = &dueq[due_head % due_cap];
    if (d->at > now) return d->at - now < cap ? d->at - now : cap;
    due_head++;
    struct conn *c = &conns[d->slot];
    if (c->state != S_THINK || c->seq != d->seq) continue; /* that call is gone */
    c->state = S_RUNNING;
    send_reply(c);
  }
  return cap;
}

static int run_open(void) {
  alloc_conns(opt_conc);
  free_slots = malloc(sizeof(int) * (size_t)nconns);
  due_cap = 4 * (size_t)nconns + 16; /* one per call, plus those of calls that ended while thinking */
  dueq = calloc(due_cap, sizeof *dueq);
  if (!free_slots || !dueq) die("out of memory");
  for (int i = nconns - 1; i >= 0; i--) free_slot(i);
  uint64_t t0 = now_ns();
  uint64_t t_measure = t0 + (uint64_t)(opt_warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(opt_duration * 1e9);
  double interval = 1e9 / opt_rate;
  uint64_t arrivals = 0;
  uint64_t offered_in_window = 0;
  struct window_edge w0 = {0}, w1 = {0};
  for (;;) {
    uint64_t t = now_ns();
    if (!measuring && !stopping && t >= t_measure) {
      window_opens(&w0);
      measuring = 1;
    }
    if (measuring && t >= t_end) {
      window_closes(&w1);
      measuring = 0;
      stopping = 1;
      break;
    }
    /* Calls due by the clock (several at once if we fell behind: the rate is the rate). */
    while (t0 + (uint64_t)((double)arrivals * interval) <= t) {
      arrivals++;
      if (measuring) offered_in_window++;
      if (nfree == 0) {
        open_dropped++;
        continue;
      }
      open_started++;
      start_call(free_slots[--nfree]);
    }
    uint64_t next_arrival = t0 + (uint64_t)((double)arrivals * interval);
    uint64_t wait = send_due(now_ns(), next_arrival > t ? next_arrival - t : 0);
    /* Sleep to the next due event, rounded up to epoll's whole ms (no busy polling): an arrival or a
     * reply may go out up to 1 ms late, which the latencies do not see (they start at the write). */
    poll_once((int)((wait + 999999) / 1000000));
  }
  /* Let the calls in progress end (they still think between commands). */
  uint64_t t_drain = now_ns() + 5000000000ull + (uint64_t)(opt_think * MAXSTEPS * 1e6);
  while (live_calls() && now_ns() <= t_drain) {
    uint64_t wait = send_due(now_ns(), 5000000);
    poll_once((int)((wait + 999999) / 1000000));
  }
  int abandoned = abandon_calls();
  uint64_t errors = call_errors();
  double secs = (double)(w1.at_ns - w0.at_ns) / 1e9;
  qsort(cmd_lat, cmd_lat_n, sizeof *cmd_lat, cmp_u64);
  qsort(sess_lat, sess_lat_n, sizeof *sess_lat, cmp_u64);
  double server_cpu = w1.server.cpu_s - w0.server.cpu_s;
  printf("{\"mode\":\"open\",\"rate\":%.1f,\"thinkMs\":%.1f,\"maxCalls\":%d,\"seconds\":%.4f,\"offeredPerSec\":%.1f,"
         "\"sessions\":%lu,\"commands\":%lu,\"sessionsPerSec\":%.1f,\"commandsPerSec\":%.1f,\"dropped\":%lu,"
         "\"cmdUs\":{\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},"
         "\"sessionUs\":{\"mean\":%.1f,\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
         "\"errors\":%lu,\"abandonedAtEnd\":%d,\"firstError\":\"",
         opt_rate, opt_think, nconns, secs, offered_in_window / secs, (unsigned long)sessions_ok, (unsigned long)commands_ok,
         sessions_ok / secs, commands_ok / secs, (unsigned long)open_dropped, mean(cmd_lat, cmd_lat_n), pct(cmd_lat, cmd_lat_n, 50),
         pct(cmd_lat, cmd_lat_n, 90), pct(cmd_lat, cmd_lat_n, 99), pct(cmd_lat, cmd_lat_n, 99.9), pct(cmd_lat, cmd_lat_n, 100),
         mean(sess_lat, sess_lat_n), pct(sess_lat, sess_lat_n, 50), pct(sess_lat, sess_lat_n, 99), pct(sess_lat, sess_lat_n, 100),
         (unsigned long)errors, abandoned);
  print_json_text(first_error);
  printf("\",\"server\":{\"cpuSeconds\":%.3f,\"cpuUsPerSession\":%.2f,\"rssKiB\":%ld,\"hwmKiB\":%ld},"
         "\"generator\":{\"cpuSeconds\":%.3f},\"machine\":{\"busySeconds\":%.3f}}\n",
         server_cpu, sessions_ok ? server_cpu * 1e6 / (double)sessions_ok : 0, w1.server.rss_kib, w1.server.hwm_kib, w1.gen_cpu_s - w0.gen_cpu_s,
         w1.machine.busy_s - w0.machine.busy_s);
  fflush(stdout);
  return 0;
}

static void soak_report(const char *tag, double t) {
  struct proc_sample p;
  read_proc(opt_pid, &p);
  uint64_t errors = call_errors() + err_stuck;
  int open = live_calls();
  printf("%s {\"t\":%.1f,\"served\":%lu,\"errors\":%lu,\"errorKinds\":{\"connect\":%lu,\"reset\":%lu,\"mismatch\":%lu,"
         "\"earlyEof\":%lu,\"extra\":%lu,\"overflow\":%lu,\"write\":%lu,\"stuck\":%lu},\"open\":%d,\"hostile\":{",
         tag, t, (unsigned long)soak_ok, (unsigned long)errors, (unsigned long)err_connect, (unsigned long)err_reset,
         (unsigned long)err_mismatch, (unsigned long)err_early_eof, (unsigned long)err_extra, (unsigned long)err_overflow,
         (unsigned long)err_write, (unsigned long)err_stuck, open);
  for (int k = 1; k < H_KINDS; k++)
    printf("%s\"%s\":{\"started\":%lu,\"expected\":%lu,\"unexpected\":%lu}", k > 1 ? "," : "", hostile_names[k],
           (unsigned long)h_started[k], (unsigned long)h_expected[k], (unsigned long)h_unexpected[k]);
  printf("},\"serverRssKiB\":%ld,\"serverCpuSeconds\":%.2f,\"firstError\":\"", p.rss_kib, p.cpu_s);
  print_json_text(first_error);
  printf("\",\"firstHostileError\":\"");
  print_json_text(first_hostile_error);
  printf("\"}\n");
  fflush(stdout);
}

/* A call that made no progress for 30 s: the server left it hanging (hostile or not). */
static void scan_stuck(uint64_t now) {
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    if (c->state == S_FREE || c->state == S_CONNECTING || now - c->t_stim < 30000000000ull) continue;
    note_error(&err_stuck, c, "no progress for 30 s", NULL, 0);
    close_conn(c, 1);
  }
}

static int run_soak(void) {
  alloc_conns(opt_conc);
  uint64_t t0 = now_ns();
  uint64_t t_end = t0 + (uint64_t)(opt_duration * 1e9);
  uint64_t every = (uint64_t)(opt_report * 1e9);
  uint64_t next_report = t0 + every, next_scan = t0 + 1000000000ull;
  for (int i = 0; i < nconns; i++) start_call(i);
  soak_report("PROGRESS", 0);
  for (;;) {
    uint64_t t = now_ns();
    if (t >= t_end) break;
    if (t >= next_scan) {
      scan_stuck(t);
      next_scan += 1000000000ull;
    }
    if (t >= next_report) {
      soak_report("PROGRESS", (double)(t - t0) / 1e9);
      next_report += every;
    }
    for (int i = 0; i < nconns; i++)
      if (conns[i].state == S_FREE) start_call(i);
    poll_once(5);
  }
  /* Let calls in flight end (stalled hostile ones end by the server's timeouts), then close the rest. */
  stopping = 1;
  uint64_t t_drain = now_ns() + 15000000000ull;
  while (live_calls() && now_ns() <= t_drain) poll_once(5);
  for (int i = 0; i < nconns; i++)
    if (conns[i].state != S_FREE) {
      note_error(&err_stuck, &conns[i], "still open 15 s after the end", NULL, 0);
      close_conn(&conns[i], 0);
    }
  soak_report("FINAL", (double)(now_ns() - t0) / 1e9);
  return 0;
}

static int run_idle(void) {
  alloc_conns(opt_count);
  measuring = 1;
  uint64_t t0 = now_ns();
  int opened = 0;
  uint64_t deadline = t0 + 120000000000ull;
  for (;;) {
    int waiting = 0, inflight = 0;
    for (int i = 0; i < opened; i++) {
      if (conns[i].state == S_IDLE_WAIT) waiting++;
      else if (conns[i].state == S_CONNECTING || conns[i].state == S_RUNNING) inflight++;
    }
    if (waiting == nconns) break;
    if (now_ns() > deadline) {
      fprintf(stderr, "agiload: idle: only %d of %d calls waiting after 120 s (%s)\n", waiting, nconns, first_error);
      return 1;
    }
    /* Failed calls (e.g. a reset backlog) are retried; keep at most `batch` calls being set up. */
    for (int i = 0; i < opened; i++)
      if (conns[i].state == S_FREE && inflight < opt_batch) {
        start_call(i);
        inflight++;
      }
    while (opened < nconns && inflight < opt_batch) {
      start_call(opened++);
      inflight++;
    }
    stopping = 1; /* close_conn() must not restart: the loop above does */
    poll_once(5);
    stopping = 0;
  }
  qsort(cmd_lat, cmd_lat_n, sizeof *cmd_lat, cmp_u64);
  uint64_t errors = call_errors();
  printf("READY {\"mode\":\"idle\",\"count\":%d,\"setupSeconds\":%.3f,\"firstCommandUs\":{\"p50\":%.1f,\"p99\":%.1f},"
         "\"errors\":%lu}\n",
         nconns, (double)(now_ns() - t0) / 1e9, pct(cmd_lat, cmd_lat_n, 50), pct(cmd_lat, cmd_lat_n, 99),
         (unsigned long)errors);
  fflush(stdout);
  /* Hold until told to close; keep servicing the sockets so a server-side close is noticed. */
  int lost = 0;
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  for (;;) {
    char b[64];
    ssize_t n = read(0, b, sizeof b);
    if (n >= 0) break; /* a line or EOF */
    stopping = 1;
    struct epoll_event evs[256];
    int k = epoll_wait(epfd, evs, 256, 20);
    for (int i = 0; i < k; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c->state == S_FREE) continue;
      char tmp[256];
      ssize_t r = read(c->fd, tmp, sizeof tmp);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        lost++;
        close_conn(c, 0);
      }
    }
  }
  abandon_calls();
  printf("CLOSED {\"lostWhileWaiting\":%d}\n", lost);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
    if (ARG("--mode")) opt_mode = v;
    else if (ARG("--host")) opt_host = v;
    else if (ARG("--port")) opt_port = atoi(v);
    else if (ARG("--conc")) opt_conc = atoi(v);
    else if (ARG("--warmup")) opt_warmup = atof(v);
    else if (ARG("--duration")) opt_duration = atof(v);
    else if (ARG("--pid")) {
      opt_pid = atoi(v);
      for (const char *p = v; *p && opt_npids < 64; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p)) opt_pids[opt_npids++] = atoi(p);
    }
    else if (ARG("--count")) opt_count = atoi(v);
    else if (ARG("--batch")) opt_batch = atoi(v);
    else if (ARG("--hostile")) opt_hostile = atoi(v);
    else if (ARG("--report")) opt_report = atof(v);
    else if (ARG("--flow")) opt_flow = !strcmp(v, "relay") ? F_RELAY : !strcmp(v, "relay-prompt") ? F_RELAY_PROMPT : !strcmp(v, "plain") ? F_PLAIN : (die("unknown --flow %s", v), 0);
    else if (ARG("--rate")) opt_rate = atof(v);
    else if (ARG("--think")) opt_think = atof(v);
    else if (!strcmp(a, "--split-header")) opt_split_header = 1;
    else if (!strcmp(a, "--spin")) opt_spin = 1;
    else die("unknown or incomplete argument %s", a);
  }
  if (opt_port <= 0) die("--port is required");
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)opt_port);
  if (inet_pton(AF_INET, opt_host, &addr.sin_addr) != 1) die("bad --host %s", opt_host);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1: %s", strerror(errno));
  if (!strcmp(opt_mode, "load")) return run_load();
  if (!strcmp(opt_mode, "idle")) return run_idle();
  if (!strcmp(opt_mode, "soak")) return run_soak();
  if (!strcmp(opt_mode, "open")) return run_open();
  die("unknown --mode %s", opt_mode);
  return 2;
}
