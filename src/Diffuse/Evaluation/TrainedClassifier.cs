namespace Diffuse.Evaluation;

/// <summary>A classifier in eval mode and its accuracy on the validation images (a fraction in [0, 1]).</summary>
public sealed record TrainedClassifier(FeatureClassifier Classifier, double ValidationAccuracy);
