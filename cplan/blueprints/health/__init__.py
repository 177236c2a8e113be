"""Health endpoints for the load balancer: /livez and /readyz."""
