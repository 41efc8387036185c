using Diffuse.Data;
using Diffuse.IO;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// What <see cref="ClassificationAccuracyScore.Measure"/> found: the accuracy on the real validation split of the
/// classifier trained on the synthetic images (the CAS) and of the same classifier trained on as many real training images.
/// </summary>
public sealed record CasReport(string Dataset, long SyntheticImages, long RealTrainImages, long TestImages, double SyntheticAccuracy, double RealAccuracy);

/// <summary>
/// The Classification Accuracy Score (Ravuri &amp; Vinyals 2019, arXiv:1905.10887): train a classifier on labelled
/// synthetic images only and measure it on real held-out images; a generative model that captures each class's
/// distribution scores close to the same classifier trained on real data. The classifier is the project's quality
/// classifier (<see cref="FeatureClassifier"/> with the recipe of <see cref="ImageEvaluation.Spec"/>), the test images
/// the validation split of <see cref="ImageEvaluation.Classifier"/>.
/// </summary>
public static class ClassificationAccuracyScore
{
    /// <summary>
    /// Trains on <paramref name="synthetic"/> (classes matched to <paramref name="real"/>'s by name, or by
    /// <see cref="LabelledImageFolder.FolderName"/>) and on as many images of <paramref name="real"/>'s training split
    /// (all of them when it has fewer), with the same recipe and <paramref name="seed"/>, and tests both on its validation split.
    /// </summary>
    public static CasReport Measure(ImageDataset synthetic, ImageDataset real, long seed, Action<string, ClassifierProgress>? progress = null)
    {
        if (!real.IsLabelled) throw new DiffuseException($"'{real.Name}' has no class labels; the CAS needs labelled real data");
        if (!synthetic.IsLabelled) throw new DiffuseException($"'{synthetic.Name}' has no class sub-folders; the CAS needs one sub-folder per class (write one with 'diffuse export')");
        if (synthetic.Channels != real.Channels || synthetic.Height != real.Height || synthetic.Width != real.Width)
            throw new DiffuseException($"the synthetic images are {synthetic.Channels}x{synthetic.Height}x{synthetic.Width} but '{real.Name}' has {real.Channels}x{real.Height}x{real.Width}");
        using var scope = NewDisposeScope();
        var labels = RealLabels(synthetic, real);
        var spec = ImageEvaluation.Spec(real) with { Seed = seed };
        using var split = real.Split(ImageEvaluation.ClassifierValidationFraction, ImageEvaluation.ClassifierSplitSeed);
        var testImages = split.Validation.ToImages();
        var testLabels = split.Validation.Labels;

        var onSynthetic = ClassifierTraining.Train(synthetic.ToImages(), labels, testImages, testLabels, spec, Reporter("synthetic", progress));
        onSynthetic.Classifier.Dispose();
        using var realTrain = split.Train.RandomSubset(synthetic.Count, seed);
        var onReal = ClassifierTraining.Train(realTrain.ToImages(), realTrain.Labels, testImages, testLabels, spec, Reporter("real", progress));
        onReal.Classifier.Dispose();
        return new CasReport(real.Name, synthetic.Count, realTrain.Count, split.Validation.Count, onSynthetic.ValidationAccuracy, onReal.ValidationAccuracy);
    }

    /// <summary>The synthetic labels as indices of <paramref name="real"/>'s classes; every real class must have synthetic images.</summary>
    static Tensor RealLabels(ImageDataset synthetic, ImageDataset real)
    {
        var map = new long[synthetic.ClassNames.Count];
        for (int k = 0; k < map.Length; k++)
        {
            string name = synthetic.ClassNames[k];
            int index = IndexOf(real.ClassNames, n => n == name);
            if (index < 0) index = IndexOf(real.ClassNames, n => LabelledImageFolder.FolderName(n) == name);
            if (index < 0)
                throw new DiffuseException($"the synthetic class '{name}' is none of the classes of '{real.Name}' ({string.Join(", ", real.ClassNames)})");
            map[k] = index;
        }
        var labels = tensor(map).index_select(0, synthetic.Labels);
        var counts = bincount(labels, minlength: real.ClassNames.Count);
        for (int j = 0; j < real.ClassNames.Count; j++)
            if (counts[j].item<long>() == 0)
                throw new DiffuseException($"the synthetic images have no class '{real.ClassNames[j]}' of '{real.Name}'; the CAS needs every class");
        return labels;
    }

    static int IndexOf(IReadOnlyList<string> names, Func<string, bool> match)
    {
        for (int i = 0; i < names.Count; i++)
            if (match(names[i])) return i;
        return -1;
    }

    static IProgress<ClassifierProgress>? Reporter(string what, Action<string, ClassifierProgress>? progress) =>
        progress is null ? null : new Relay(p => progress(what, p));

    sealed class Relay(Action<ClassifierProgress> report) : IProgress<ClassifierProgress>
    {
        public void Report(ClassifierProgress value) => report(value);
    }
}
