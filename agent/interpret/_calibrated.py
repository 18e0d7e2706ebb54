"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio, calib-rover); the value is the lower bound of a one-sided
95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.994,  # 443/443
    "example": 0.982,  # 252/253
    "unique_operation": 0.967,  # 177/179
    "stop": 1.0,  # 162/164
    "device_and_value": 0.964,  # 119/120
    "device_only": 0.971,  # 90/90
    "value_only": 0.652,  # 36/47
    "colour_as_result": 0.944,  # 46/46
    "tie_unexplained": 0.054,  # 5/46
    "tie": 0.106,  # 7/37
    "value_only_unexplained": 0.42,  # 20/36
    "other_thing": 0.076,  # 5/33
    "both_named_unexplained": 0.686,  # 24/29
    "device_only_partly_unexplained": 0.438,  # 14/23
    "other_value": 0.084,  # 4/22
    "partial_unexplained": 0.098,  # 4/19
    "unique_operation_partly_unexplained": 0.319,  # 9/18
    "other_operation": 0.34,  # 9/17
    "other_value_unexplained": 0.0,  # 0/16
    "other_thing_unexplained": 0.052,  # 2/13
    "pronoun": 0.625,  # 11/13
    "unknown_operation_unexplained": 0.22,  # 5/12
    "partial": 0.541,  # 8/10
    "operation_only_unexplained": 0.218,  # 4/9
    "device_only_partly": 0.289,  # 4/7
    "unique_operation_partly": 0.721,  # 7/7
    "low_coverage_unexplained": 0.143,  # 2/5
    "bare_operation": 0.182,  # 2/4
    "other_operation_unexplained": 0.058,  # 1/4
    "pronoun_unexplained": 0.078,  # 1/3
    "operation_only": 0.121,  # 1/2
    "unknown_operation": 0.121,  # 1/2
    "both_named_low_coverage_unexplained": 0.0,  # 0/1
    "both_named_low_coverage": 0.0,  # 0/0
    "low_coverage": 0.0,  # 0/0
    "model_only": 0.0,  # 0/0
}
