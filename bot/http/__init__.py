"""Small HTTP building blocks for the server: tokens, rate limits, middleware, JSON logs, error bodies."""
