using Diffuse.Data;
using Diffuse.IO;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>
/// What <see cref="ClassificationAccuracyScore.Measure(ImageDataset, ImageDataset, long, Action{string, ClassifierProgress}?)"/> found: the accuracy on the real validation split of the
/// classifier trained on the synthetic images (the CAS) and of the same classifier trained on as many real training images.
/// </summary>
public sealed record CasReport(string Dataset, long SyntheticImages, long RealTrainImages, long TestImages, double SyntheticAccuracy, double RealAccuracy);

/// <summary>
/// The Classification Accuracy Score (Ravuri &amp; Vinyals 2019, arXiv:1905.10887): train a classifier on labelled
/// synthetic images only and measure it on real held-out images; a generative model that captures each class's
/// distribution scores close to the same classifier trained on real data. The classifier is the project's quality
/// classifier (<see cref="FeatureClassifier"/> with the recipe of <see cref="ImageEvaluation.Spec(ImageDataset)"/>), the test images
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
        using var split = real.Split(ImageEvaluation.ClassifierValidationFraction, ImageEvaluation.ClassifierSplitSeed);
        return Measure(synthetic, real.Name, split.Train, split.Validation, seed, progress);
    }

    /// <summary>
    /// As <see cref="Measure(ImageDataset, ImageDataset, long, Action{string, ClassifierProgress}?)"/> with the real images
    /// given as a training part (the real baseline draws as many images as <paramref name="synthetic"/> has from it) and a
    /// test part: for a generative model, its own training and held-out images, so that the test images are ones the model
    /// never saw (Ravuri &amp; Vinyals test on the real test split).
    /// </summary>
    public static CasReport Measure(ImageDataset synthetic, string dataset, ImageDataset realTrain, ImageDataset realTest, long seed,
        Action<string, ClassifierProgress>? progress = null)
    {
        if (!realTrain.IsLabelled || !realTest.IsLabelled) throw new DiffuseException($"'{dataset}' has no class labels; the CAS needs labelled real data");
        if (!synthetic.IsLabelled) throw new DiffuseException($"'{synthetic.Name}' has no class sub-folders; the CAS needs one sub-folder per class (write one with 'diffuse export')");
        if (synthetic.Channels != realTest.Channels || synthetic.Height != realTest.Height || synthetic.Width != realTest.Width)
            throw new DiffuseException($"the synthetic images are {synthetic.Channels}x{synthetic.Height}x{synthetic.Width} but '{dataset}' has {realTest.Channels}x{realTest.Height}x{realTest.Width}");
        if (realTest.Count == 0) throw new DiffuseException($"'{dataset}' gives no real test images");
        using var scope = NewDisposeScope();
        var labels = RealLabels(synthetic, realTest, dataset);
        var spec = ImageEvaluation.Spec(realTrain, dataset) with { Seed = seed };
        var testImages = realTest.ToImages();
        var testLabels = realTest.Labels;

        var onSynthetic = ClassifierTraining.Train(synthetic.ToImages(), labels, testImages, testLabels, spec, Reporter("synthetic", progress));
        onSynthetic.Classifier.Dispose();
        using var trainSubset = realTrain.RandomSubset(synthetic.Count, seed);
        var onReal = ClassifierTraining.Train(trainSubset.ToImages(), trainSubset.Labels, testImages, testLabels, spec, Reporter("real", progress));
        onReal.Classifier.Dispose();
        return new CasReport(dataset, synthetic.Count, trainSubset.Count, realTest.Count, onSynthetic.ValidationAccuracy, onReal.ValidationAccuracy);
    }

    /// <summary>The synthetic labels as indices of <paramref name="real"/>'s classes; every real class must have synthetic images.</summary>
    static Tensor RealLabels(ImageDataset synthetic, ImageDataset real, string dataset)
    {
        var map = new long[synthetic.ClassNames.Count];
        for (int k = 0; k < map.Length; k++)
        {
            string name = synthetic.ClassNames[k];
            int index = IndexOf(real.ClassNames, n => n == name);
            if (index < 0) index = IndexOf(real.ClassNames, n => LabelledImageFolder.FolderName(n) == name);
            if (index < 0)
                throw new DiffuseException($"the synthetic class '{name}' is none of the classes of '{dataset}' ({string.Join(", ", real.ClassNames)})");
            map[k] = index;
        }
        var labels = tensor(map).index_select(0, synthetic.Labels);
        var counts = bincount(labels, minlength: real.ClassNames.Count);
        for (int j = 0; j < real.ClassNames.Count; j++)
            if (counts[j].item<long>() == 0)
                throw new DiffuseException($"the synthetic images have no class '{real.ClassNames[j]}' of '{dataset}'; the CAS needs every class");
        return labels;
    }

    static int IndexOf(IReadOnlyList<string> names, Func<string, bool> match)
    {
        for (int i = 0; i < names.Count; i++)
            if (match(names[i])) return i;
        return -1;
    }

    static IProgress<ClassifierProgress>? Reporter(string what, Action<string, ClassifierProgress>? progress) =>
        progress is null ? null : new SyncProgress<ClassifierProgress>(p => progress(what, p));
}
