"""The whole picture of the robot now (`P/state`), and answers to state questions from it.

May import agent.safety and below.
"""
