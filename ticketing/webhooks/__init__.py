"""Outbound partner webhooks: endpoints a partner subscribes to events, signed Standard Webhooks
deliveries sent by the worker after commit, retried for about three days, and their log."""
