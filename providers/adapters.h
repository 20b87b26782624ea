/*
 * adapters.h: the adapters the registry in provider.c knows. The core finds them with
 * provider_find(); only the registry and tests name them directly.
 */
#ifndef SIGNPOST_ADAPTERS_H
#define SIGNPOST_ADAPTERS_H

#include "providers/provider.h"

extern const struct provider_ops twilio_ops;
extern const struct provider_ops webhook_ops;
extern const struct provider_ops sim_ops;
extern const struct provider_ops vonage_ops;
extern const struct provider_ops messagebird_ops;
extern const struct provider_ops firetext_ops;

#endif
