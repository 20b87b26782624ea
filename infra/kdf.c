#include "infra/kdf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/password.h"
#include "infra/log.h"

struct kdf_job {
	struct kdf_job *next;
	char *password;
	char *encoded; /* verify: the stored hash (may be NULL); hash: the result */
	bool hashing;
	bool match;
	kdf_cb *cb;
	void *arg;
	char request_id[LOG_REQUEST_ID_SIZE]; /* the HTTP request that asked, "" for none */
};

struct kdf_list {
	struct kdf_job *head, *tail;
	size_t n;
};

struct kdf {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct kdf_list todo, done; /* under lock */
	bool stopping;              /* under lock */
	int pipe[2];                /* the thread writes a byte when done has work */
	struct event *ev;
};

static void kdf_push(struct kdf_list *l, struct kdf_job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static struct kdf_job *kdf_take_all(struct kdf_list *l)
{
	struct kdf_job *j = l->head;

	memset(l, 0, sizeof(*l));
	return j;
}

static void kdf_job_free(struct kdf_job *j)
{
	if (j->password)
		OPENSSL_cleanse(j->password, strlen(j->password));
	free(j->password);
	free(j->encoded);
	free(j);
}

static void kdf_run(struct kdf_job *j)
{
	if (j->hashing) {
		struct sbuf out;
		sbuf_init(&out);
		password_hash(j->password, &out);
		j->encoded = sbuf_detach(&out);
	} else {
		j->match = password_verify(j->password, j->encoded);
	}
}

static void *kdf_main(void *arg)
{
	struct kdf *k = arg;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (!k->todo.head && !k->stopping)
			pthread_cond_wait(&k->wake, &k->lock);
		if (k->stopping)
			break;
		struct kdf_job *j = k->todo.head;
		k->todo.head = j->next;
		if (!k->todo.head)
			k->todo.tail = NULL;
		k->todo.n--;
		pthread_mutex_unlock(&k->lock);
		kdf_run(j);
		pthread_mutex_lock(&k->lock);
		kdf_push(&k->done, j);
		ssize_t w;
		do
			w = write(k->pipe[1], "x", 1);
		while (w < 0 && errno == EINTR); /* EAGAIN: a wake-up is pending already */
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

static void kdf_answer(struct kdf_job *j, enum kdf_status status)
{
	while (j) {
		struct kdf_job *next = j->next;
		char prev[LOG_REQUEST_ID_SIZE];
		log_request_enter(j->request_id, prev);
		j->cb(status, j->match, j->hashing ? j->encoded : NULL, j->arg);
		log_request_leave(prev);
		kdf_job_free(j);
		j = next;
	}
}

static void kdf_ready(evutil_socket_t fd, short what, void *arg)
{
	struct kdf *k = arg;
	char buf[64];
	(void)what;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&k->lock);
	struct kdf_job *j = kdf_take_all(&k->done);
	pthread_mutex_unlock(&k->lock);
	kdf_answer(j, KDF_DONE);
}

struct kdf *kdf_new(struct event_base *base)
{
	struct kdf *k = xcalloc(1, sizeof(*k));

	if (pipe2(k->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		abort();
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, NULL);
	k->ev = event_new(base, k->pipe[0], EV_READ | EV_PERSIST, kdf_ready, k);
	event_add(k->ev, NULL);
	if (pthread_create(&k->thread, NULL, kdf_main, k) != 0)
		abort();
	return k;
}

void kdf_free(struct kdf *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	k->stopping = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	kdf_answer(kdf_take_all(&k->done), KDF_DONE);
	kdf_answer(kdf_take_all(&k->todo), KDF_ABANDONED);
	event_free(k->ev);
	close(k->pipe[0]);
	close(k->pipe[1]);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static int kdf_queue(struct kdf *k, struct kdf_job *j)
{
	int rc = -1;

	pthread_mutex_lock(&k->lock);
	if (k->todo.n < KDF_QUEUE_MAX && !k->stopping) {
		kdf_push(&k->todo, j);
		pthread_cond_signal(&k->wake);
		rc = 0;
	}
	pthread_mutex_unlock(&k->lock);
	if (rc < 0)
		kdf_job_free(j);
	return rc;
}

int kdf_verify(struct kdf *k, const char *password, const char *encoded, kdf_cb *cb, void *arg)
{
	struct kdf_job *j = xcalloc(1, sizeof(*j));

	j->password = xstrdup(password);
	j->encoded = encoded ? xstrdup(encoded) : NULL;
	j->cb = cb;
	j->arg = arg;
	snprintf(j->request_id, sizeof(j->request_id), "%s", log_request());
	return kdf_queue(k, j);
}

int kdf_hash(struct kdf *k, const char *password, kdf_cb *cb, void *arg)
{
	struct kdf_job *j = xcalloc(1, sizeof(*j));

	j->password = xstrdup(password);
	j->hashing = true;
	j->cb = cb;
	j->arg = arg;
	snprintf(j->request_id, sizeof(j->request_id), "%s", log_request());
	return kdf_queue(k, j);
}
