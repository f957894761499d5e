"""ONNX export of the models and their ONNX Runtime runners."""
