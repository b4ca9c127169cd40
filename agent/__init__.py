"""agent: the brain. Plans requests into edit steps, runs them, keeps the history."""
