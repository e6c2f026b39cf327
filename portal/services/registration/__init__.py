"""Registration policy: which methods and how many each person needs, who is in the rollout, when
registration is due or must be re-confirmed, `/enforce`'s allowed return addresses, and bulk import."""
