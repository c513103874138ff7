"""The model port: how the core talks to a chat model, without knowing its wire format."""
