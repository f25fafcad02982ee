// delay-line: holds every packet of one NFQUEUE queue for a fixed time, then accepts it.
//
// Why it exists: the testbed's veth pair adds almost no latency (~57 us round trip), so the paper's
// window-limited TCP regime (throughput ~ window / RTT) never shows; this kernel has no netem, fq
// or etf qdisc to add delay. The testbed sends both directions of its link through one queue in
// the client namespace (iptables NFQUEUE, no --queue-bypass: with this program gone, packets are
// dropped, never passed undelayed), and this program releases each packet `--delay-us` after it
// saw it.
//
// Why it spins: this VM wakes a sleeping thread 55 us to 2 ms late, which would add far more than
// the delays we want (0.1-0.4 ms). While traffic flows, the loop polls the socket without sleeping
// and releases each packet on time; after `--idle-ms` without a packet it blocks, so an idle
// testbed costs no CPU (the first packet after a pause is then held a wake-up longer).
//
// Why one FIFO serves both directions: every packet gets the same delay, so release order is
// arrival order, and one batch verdict ("accept every id up to N") releases all that are due.
// Packets are asked for as metadata only (no payload copy, no checksum work); no conntrack.
//
// Output: "ready" on stdout once the queue is bound (the caller adds its iptables rules after
// that); on SIGUSR1 and at exit one "stats ..." line on stdout (packets, how late releases were,
// deepest queue, netlink overruns).

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// The kernel queue drops packets beyond this many held at once (fail closed, like a full cable).
// At 100 Mbit/s (~8200 frames/s each way) a 10 ms delay holds ~170 packets.
#define QUEUE_MAXLEN 16384
#define RING_SIZE 16384 // power of two, >= QUEUE_MAXLEN
#define LATE_BUCKETS 10001 // lateness histogram in whole microseconds; the last bucket is ">= 10 ms"

struct held {
  uint32_t id;
  uint64_t due_ns;
};

static struct held ring[RING_SIZE];
static uint32_t ring_head, ring_count;
static uint64_t hold_ns; // the delay less what a pass through the queue costs by itself
static uint64_t last_arrival_ns;

static uint64_t packets_seen, packets_released, ring_overflows, netlink_overruns, max_depth;
static uint64_t late_hist[LATE_BUCKETS];

static volatile sig_atomic_t stop_requested, stats_requested;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg;
  (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  uint64_t now = now_ns();
  last_arrival_ns = now;
  packets_seen++;
  if (ring_count == RING_SIZE) {
    // Cannot happen while QUEUE_MAXLEN <= RING_SIZE; if it did, dropping is the honest verdict.
    ring_overflows++;
    nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
    return 0;
  }
  ring[(ring_head + ring_count) & (RING_SIZE - 1)] = (struct held){id, now + hold_ns};
  ring_count++;
  if (ring_count > max_depth) max_depth = ring_count;
  return 0;
}

// Accepts every held packet that is due, with one batch verdict for the newest of them.
static void release_due(struct nfq_q_handle *qh, uint64_t now) {
  uint32_t n = 0;
  while (n < ring_count && ring[(ring_head + n) & (RING_SIZE - 1)].due_ns <= now) {
    uint64_t late_us = (now - ring[(ring_head + n) & (RING_SIZE - 1)].due_ns) / 1000;
    late_hist[late_us < LATE_BUCKETS - 1 ? late_us : LATE_BUCKETS - 1]++;
    n++;
  }
  if (n == 0) return;
  uint32_t last_id = ring[(ring_head + n - 1) & (RING_SIZE - 1)].id;
  nfq_set_verdict_batch(qh, last_id, NF_ACCEPT);
  ring_head = (ring_head + n) & (RING_SIZE - 1);
  ring_count -= n;
  packets_released += n;
}

static uint64_t late_percentile(double p) {
  uint64_t total = 0;
  for (int i = 0; i < LATE_BUCKETS; i++) total += late_hist[i];
  if (total == 0) return 0;
  uint64_t rank = (uint64_t)(p * (double)(total - 1)), seen = 0;
  for (int i = 0; i < LATE_BUCKETS; i++) {
    seen += late_hist[i];
    if (seen > rank) return (uint64_t)i;
  }
  return LATE_BUCKETS - 1;
}

// Releases at least `from_us` late since the start: cumulative, so a reader takes the difference
// between two stats lines to see how late releases were during one measurement.
static uint64_t late_at_least(int from_us) {
  uint64_t n = 0;
  for (int i = from_us; i < LATE_BUCKETS; i++) n += late_hist[i];
  return n;
}

static void print_stats(void) {
  printf("stats packets=%llu released=%llu held=%u late_p50_us=%llu late_p90_us=%llu late_p99_us=%llu late_max_us=%llu max_depth=%llu netlink_overruns=%llu ring_overflows=%llu late_ge_100us=%llu late_ge_1000us=%llu\n",
         (unsigned long long)packets_seen, (unsigned long long)packets_released, ring_count,
         (unsigned long long)late_percentile(0.5), (unsigned long long)late_percentile(0.9),
         (unsigned long long)late_percentile(0.99), (unsigned long long)late_percentile(1.0),
         (unsigned long long)max_depth, (unsigned long long)netlink_overruns, (unsigned long long)ring_overflows,
         (unsigned long long)late_at_least(100), (unsigned long long)late_at_least(1000));
  fflush(stdout);
}

static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}
static void on_stats(int sig) {
  (void)sig;
  stats_requested = 1;
}

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s --queue N --delay-us D [--overhead-us O] [--cpu C] [--idle-ms M]\n", argv0);
  exit(2);
}

static long parse_number(const char *name, const char *text, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *end || end == text || v < min || v > max) {
    fprintf(stderr, "delay-line: --%s: expected a whole number from %ld to %ld, got \"%s\"\n", name, min, max, text);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  long queue = -1, delay_us = -1, overhead_us = 0, cpu = -1, idle_ms = 50;
  static const struct option options[] = {
      {"queue", required_argument, 0, 'q'}, {"delay-us", required_argument, 0, 'd'},
      {"cpu", required_argument, 0, 'c'},   {"idle-ms", required_argument, 0, 'i'},
      {"overhead-us", required_argument, 0, 'o'},
      {0, 0, 0, 0},
  };
  for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (opt) {
      case 'q': queue = parse_number("queue", optarg, 0, 65535); break;
      case 'd': delay_us = parse_number("delay-us", optarg, 0, 1000000); break;
      case 'o': overhead_us = parse_number("overhead-us", optarg, 0, 1000000); break;
      case 'c': cpu = parse_number("cpu", optarg, 0, 4095); break;
      case 'i': idle_ms = parse_number("idle-ms", optarg, 0, 60000); break;
      default: usage(argv[0]);
    }
  }
  if (queue < 0 || delay_us < 0 || optind != argc) usage(argv[0]);
  // A packet that passes through the queue without being held still arrives some microseconds
  // later than without the queue (the trip to this program and back into the kernel): holding it
  // that much less makes the link's added delay the one asked for.
  hold_ns = delay_us > overhead_us ? (uint64_t)(delay_us - overhead_us) * 1000 : 0;
  uint64_t idle_ns = (uint64_t)idle_ms * 1000000;

  if (cpu >= 0) {
    // Spinning unpinned was measured ~250 us per round trip off (the scheduler moves the spinner
    // away from the CPU that runs the softirq work); the caller picks the CPU.
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      fprintf(stderr, "delay-line: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
      return 1;
    }
  }

  struct sigaction stop = {.sa_handler = on_stop}, stats = {.sa_handler = on_stats};
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGUSR1, &stats, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct nfq_handle *h = nfq_open();
  if (!h) {
    fprintf(stderr, "delay-line: nfq_open: %s (needs CAP_NET_ADMIN and nfnetlink_queue)\n", strerror(errno));
    return 1;
  }
  struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
  if (!qh) {
    fprintf(stderr, "delay-line: cannot bind queue %ld: %s (another program holds it?)\n", queue, strerror(errno));
    return 1;
  }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(qh, QUEUE_MAXLEN) < 0) {
    fprintf(stderr, "delay-line: cannot configure queue %ld: %s\n", queue, strerror(errno));
    return 1;
  }
  // GSO: take segmentation offload packets whole instead of having the kernel split them for us
  // (we never look at payloads). Not FAIL_OPEN: a full queue drops, it never passes packets early.
  nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
  int fd = nfq_fd(h);
  // A deep receive buffer keeps bursts from overflowing the socket (ENOBUFS loses the message,
  // though not the packet: the next batch verdict releases it too).
  int rcvbuf = 8 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

  printf("ready queue=%ld delay_us=%ld overhead_us=%ld cpu=%ld idle_ms=%ld pid=%d\n", queue, delay_us, overhead_us, cpu, idle_ms, (int)getpid());
  fflush(stdout);

  static char buf[65536] __attribute__((aligned));
  last_arrival_ns = now_ns();
  while (!stop_requested) {
    if (stats_requested) {
      stats_requested = 0;
      print_stats();
    }
    uint64_t now = now_ns();
    release_due(qh, now);
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      nfq_handle_packet(h, buf, (int)n);
      continue;
    }
    if (n < 0 && errno == ENOBUFS) {
      netlink_overruns++;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fprintf(stderr, "delay-line: recv: %s\n", strerror(errno));
      break;
    }
    // Nothing to read. Keep spinning while packets are held or traffic was recent; else block.
    if (ring_count == 0 && now - last_arrival_ns > idle_ns) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      poll(&p, 1, 1000); // bounded, so a stats or stop request is seen within a second
    }
  }
  print_stats();
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
