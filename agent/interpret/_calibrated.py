"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev and test, rover-motion,
injections, forms-dev, tank-dev, calib-home, calib-tank); the value is the lower bound of a
one-sided 95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.975,  # 240/242
    "example": 0.953,  # 55/55
    "tie": 0.028,  # 3/44
    "unique_operation": 0.942,  # 44/44
    "device_only": 0.926,  # 34/34
    "device_and_value": 0.812,  # 20/21
    "stop": 1.0,  # 15/17
    "device_only_partly": 0.652,  # 9/10
    "value_only": 0.398,  # 6/9
    "partial": 0.1,  # 2/7
    "other_operation": 0.0,  # 0/6
    "other_thing": 0.058,  # 1/4
    "other_value": 0.058,  # 1/4
    "pronoun": 0.596,  # 4/4
    "operation_only": 0.078,  # 1/3
    "low_coverage": 0.121,  # 1/2
    "unknown_operation": 0.425,  # 2/2
    "bare_operation": 0.27,  # 1/1
    "both_named_low_coverage": 0.0,  # 0/1
    "unique_operation_partly": 0.27,  # 1/1
    "model_only": 0.0,  # 0/0
}
