namespace Diffuse.Evaluation;

/// <summary>
/// What <see cref="ImageQuality.Measure(FeatureClassifier, TorchSharp.torch.Tensor, GaussianStats, int)"/> reports for a set of images.
/// </summary>
/// <param name="Fcd">Fréchet Classifier Distance: the squared Fréchet distance between the Gaussians of the
/// images' and the reference's <see cref="FeatureClassifier"/> features (not Inception FID; lower is better;
/// it depends on the sample sizes, so compare at equal counts).</param>
/// <param name="MeanConfidence">The mean over images of the largest softmax probability (in [1/classes, 1]).</param>
/// <param name="ClassEntropy">The entropy in nats of the histogram of predicted classes (ln 10 when all ten classes are equally common; 0 for one class).</param>
/// <param name="ClassCounts">How many images were predicted as each class.</param>
/// <param name="Count">How many images were measured.</param>
public sealed record ImageQualityScores(double Fcd, double MeanConfidence, double ClassEntropy, int[] ClassCounts, int Count);
