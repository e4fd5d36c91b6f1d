"""The FastAPI app: factory, middleware, problem bodies, router mounting, and nothing else."""
