"""What the routes stand on: the app's state, the engine access, the data loop (database,
uploads, feedback, retraining), recent predictions, statistics, metrics facts, page rendering,
admin charts and the worker-process supervisor."""
