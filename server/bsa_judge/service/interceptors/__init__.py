"""Server interceptors, one concern each: auth, metrics, logging, error mapping."""
