"""Confidence of each kind of the reading adapter's evidence, written by
scripts/calibrate.py --model: do not edit.

Each kind (agent/interpret/_model_evidence.py): right of samples on the development sets the
adapter was not trained on (sets A, F and B, dev-d, dev-e, the German and negation development
halves, the sets once held out); the value is the lower bound of a one-sided 95 % Wilson
interval on its precision. A kind never seen is 0.
"""

MODEL_CONFIDENCE: dict[str, float] = {
    "model_agrees_sure": 0.862,  # 48/51
    "model_agrees_unsure": 0.704,  # 39/48
    "model_frame_unsure": 0.36,  # 8/14
    "model_picks_unsure": 0.249,  # 4/8
    "model_frame_sure": 0.435,  # 4/5
    "model_picks_sure": 0.435,  # 4/5
}
