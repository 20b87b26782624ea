/*
 * inbound.h: provider webhooks: inbound texts and delivery receipts.
 *
 * Nothing is stored unless the provider's signature (or configured credential) checks
 * out. The HTTP answer waits until what the webhook carried is committed, so a provider
 * that gets no 2xx can safely retry.
 */
#ifndef SIGNPOST_INBOUND_H
#define SIGNPOST_INBOUND_H

#include "gateway/api.h"

/* True for one of our references: a message id in decimal. */
bool inbound_reference_ok(const char *ref);

#endif
