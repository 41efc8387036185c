namespace Diffuse.Evaluation;

/// <summary>What <see cref="ClassifierCache.LoadOrTrain"/> returns: the classifier in eval mode, its validation accuracy, and whether it came from the cache.</summary>
public sealed record CachedClassifier(FeatureClassifier Classifier, double ValidationAccuracy, bool FromCache);
