"""The gRPC edge: servicer, interceptors, server assembly. The core never imports this."""
