# A package, so that a test module here may share its name with one in tests/ (test_schools.py):
# pytest imports test modules outside packages by their file name alone.
