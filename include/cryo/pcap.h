/* Recording what a cut-off container still sends: an AF_PACKET socket on
 * one link of a namespace, written as a classic pcap file (what tcpdump -r
 * and tshark -r read), in a detached child that stops on its own. */
#ifndef CRYO_PCAP_H
#define CRYO_PCAP_H

#include <stdint.h>
#include <sys/types.h>
#include "cryo/error.h"
#include "cryo/netlink.h"

/* The recorder's process name (/proc/PID/comm), part of its identity. */
#define CRYO_PCAP_COMM "cryo-pcap"

struct cryo_pcap_request {
	const struct cryo_netns *ns;
	int ifindex;             /* 0: every link of ns except loopback */
	const char *path;        /* written as PATH.part, renamed to PATH when done */
	uint64_t max_bytes;      /* file size bound */
	unsigned max_seconds;    /* duration bound */
	const char *case_path;   /* when set, a custody entry records the file at the end */
	const char *target;
};

/* Start the recorder; returns once the capture socket is bound, with the
 * recorder's pid.  SIGTERM makes it finish its file early. */
int cryo_pcap_start(const struct cryo_pcap_request *req, pid_t *pid, struct cryo_error *err);

#endif
