"""Generated protobuf packages of the bsa.judge contract."""
