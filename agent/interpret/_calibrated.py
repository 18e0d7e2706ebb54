"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank); the value is the
lower bound of a one-sided 95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.968,  # 186/188
    "example": 0.943,  # 45/45
    "unique_operation": 0.941,  # 43/43
    "tie": 0.036,  # 3/34
    "device_only": 0.922,  # 32/32
    "stop": 1.0,  # 15/17
    "device_and_value": 0.828,  # 13/13
    "device_only_partly": 0.589,  # 7/8
    "value_only": 0.348,  # 5/8
    "partial": 0.038,  # 1/6
    "operation_only": 0.078,  # 1/3
    "other_operation": 0.0,  # 0/3
    "other_thing": 0.0,  # 0/2
    "other_value": 0.121,  # 1/2
    "pronoun": 0.425,  # 2/2
    "bare_operation": 0.27,  # 1/1
    "both_named_low_coverage": 0.0,  # 0/1
    "low_coverage": 0.27,  # 1/1
    "unknown_operation": 0.27,  # 1/1
    "model_only": 0.0,  # 0/0
    "unique_operation_partly": 0.0,  # 0/0
}
