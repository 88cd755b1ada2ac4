"""Self-service's access functions: each fetches what its caller may see or change (404 otherwise,
403 where the caller sees it but may not change it) and logs the read of citizen data it serves, so a
handler or a page cannot forget it. One module per entity, beside the selectors of the same name."""
