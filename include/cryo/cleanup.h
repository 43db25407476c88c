/* Scope-bound cleanup, one attribute per resource type (crun, bubblewrap). */
#ifndef CRYO_CLEANUP_H
#define CRYO_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <cjson/cJSON.h>

static inline void cryo_freep(void *p) { free(*(void **)p); }
static inline void cryo_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void cryo_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void cryo_closedirp(DIR **d) { if (*d) closedir(*d); }
static inline void cryo_cjsonp(cJSON **j) { if (*j) cJSON_Delete(*j); }

#define cleanup_free __attribute__((cleanup(cryo_freep)))
#define cleanup_close __attribute__((cleanup(cryo_closep)))
#define cleanup_fclose __attribute__((cleanup(cryo_fclosep)))
#define cleanup_closedir __attribute__((cleanup(cryo_closedirp)))
#define cleanup_cjson __attribute__((cleanup(cryo_cjsonp)))
/* a libarchive reader (lib/verify.c) */
struct archive;
void cryo_archive_read_freep(struct archive **a);
#define cleanup_archive __attribute__((cleanup(cryo_archive_read_freep)))

/* Hand ownership out of a cleanup-tied variable. */
static inline void *cryo_steal_ptr(void *pp)
{
	void **p = pp, *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) cryo_steal_ptr(pp)

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#define CRYO_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
