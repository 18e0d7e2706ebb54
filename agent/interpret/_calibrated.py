"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio, calib-rover); the value is the lower bound of a one-sided
95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
    "both_named": 0.994,  # 420/420
    "example": 0.981,  # 229/230
    "unique_operation": 0.973,  # 164/165
    "stop": 1.0,  # 131/133
    "device_and_value": 0.961,  # 110/111
    "device_only": 0.967,  # 79/79
    "colour_as_result": 0.944,  # 46/46
    "tie_unexplained": 0.041,  # 4/45
    "value_only": 0.659,  # 32/41
    "tie": 0.091,  # 6/35
    "value_only_unexplained": 0.448,  # 20/34
    "other_thing": 0.066,  # 4/28
    "both_named_unexplained": 0.744,  # 23/26
    "device_only_partly_unexplained": 0.462,  # 14/22
    "other_value": 0.098,  # 4/19
    "partial_unexplained": 0.069,  # 3/18
    "other_operation": 0.365,  # 9/16
    "unique_operation_partly_unexplained": 0.31,  # 8/16
    "other_value_unexplained": 0.0,  # 0/15
    "other_thing_unexplained": 0.057,  # 2/12
    "pronoun": 0.601,  # 10/12
    "unknown_operation_unexplained": 0.242,  # 5/11
    "operation_only_unexplained": 0.218,  # 4/9
    "partial": 0.548,  # 6/7
    "unique_operation_partly": 0.721,  # 7/7
    "device_only_partly": 0.272,  # 3/5
    "bare_operation": 0.182,  # 2/4
    "low_coverage_unexplained": 0.058,  # 1/4
    "other_operation_unexplained": 0.058,  # 1/4
    "pronoun_unexplained": 0.078,  # 1/3
    "operation_only": 0.121,  # 1/2
    "both_named_low_coverage_unexplained": 0.0,  # 0/1
    "unknown_operation": 0.0,  # 0/1
    "both_named_low_coverage": 0.0,  # 0/0
    "low_coverage": 0.0,  # 0/0
    "model_only": 0.0,  # 0/0
}
