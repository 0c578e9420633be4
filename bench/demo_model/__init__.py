"""The demo model's world and its judge: the procedurally drawn scenes it is trained on
(`scenes`), an evaluator that reads a picture back into a scene (`evaluate`), and the harness that
runs held-out prompts through the engine and scores them (`harness`). Used by the quality bench,
its sampled tests and the training tool; the studio never needs them."""
