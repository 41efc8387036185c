using Diffuse.Data;
using System.Diagnostics;
using Diffuse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Evaluation;

/// <summary>Trains a <see cref="FeatureClassifier"/> with cross-entropy and AdamW on labelled images in [-1, 1].</summary>
internal static class ClassifierTraining
{
    /// <summary>
    /// Trains a new classifier on <paramref name="trainImages"/> [N, C, H, W] with labels
    /// <paramref name="trainLabels"/> [N] (int64) and reports its accuracy on the validation pair after
    /// every epoch. Returns the classifier in eval mode.
    /// </summary>
    public static TrainedClassifier Train(Tensor trainImages, Tensor trainLabels, Tensor valImages, Tensor valLabels,
        ClassifierSpec spec, IProgress<ClassifierProgress>? progress = null, CancellationToken cancel = default)
    {
        spec.Validate();
        CheckLabelled(trainImages, trainLabels, spec.Model, "training");
        CheckLabelled(valImages, valLabels, spec.Model, "validation");
        using var generator = new Generator((ulong)spec.Seed);
        var classifier = new FeatureClassifier(spec.Model, generator);
        var parameters = classifier.parameters().ToArray();
        using var optimizer = optim.AdamW(parameters, lr: spec.LearningRate, weight_decay: spec.WeightDecay);
        long n = trainImages.shape[0];
        int stepsPerEpoch = (int)((n + spec.BatchSize - 1) / spec.BatchSize);
        int totalSteps = stepsPerEpoch * spec.Epochs, step = 0;
        var clock = Stopwatch.StartNew();
        double accuracy = 0;
        for (int epoch = 0; epoch < spec.Epochs; epoch++)
        {
            classifier.train();
            using var order = randperm(n, generator: generator);
            double lossSum = 0;
            for (long start = 0; start < n; start += spec.BatchSize, step++)
            {
                cancel.ThrowIfCancellationRequested();
                double lr = LearningRate.WarmupCosine(step, totalSteps, Math.Min(100, totalSteps / 10), spec.LearningRate);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                using var fence = FinalizerFence.Enter();
                using var scope = NewDisposeScope();
                var index = order.narrow(0, start, Math.Min(spec.BatchSize, n - start));
                var x = trainImages.index_select(0, index);
                if (spec.Augment && spec.ShiftPixels > 0) x = ImageAugmentation.RandomShift(x, spec.ShiftPixels, generator);
                var loss = nn.functional.cross_entropy(classifier.forward(x), trainLabels.index_select(0, index));
                double lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue))
                    throw new DiffuseException($"classifier training stopped: the loss became {lossValue} at step {step + 1}; lower the learning rate");
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += lossValue * index.shape[0];
                NativeMemory.ReleaseFreedEvery(step + 1, 50);
            }
            accuracy = Accuracy(classifier, valImages, valLabels);
            progress?.Report(new ClassifierProgress(epoch + 1, spec.Epochs, lossSum / n, accuracy, clock.Elapsed));
        }
        classifier.eval();
        return new TrainedClassifier(classifier, accuracy);
    }

    /// <summary>The fraction of <paramref name="images"/> whose predicted class is <paramref name="labels"/>; leaves the classifier in eval mode.</summary>
    public static double Accuracy(FeatureClassifier classifier, Tensor images, Tensor labels, int batchSize = 512)
    {
        CheckLabelled(images, labels, classifier.Config, "evaluation");
        classifier.eval();
        long correct = 0, n = images.shape[0];
        using var _ = no_grad();
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long count = Math.Min(batchSize, n - start);
            var predicted = classifier.forward(images.narrow(0, start, count)).argmax(1);
            correct += predicted.eq(labels.narrow(0, start, count)).sum().item<long>();
        }
        return n == 0 ? 0 : (double)correct / n;
    }

    internal static void CheckLabelled(Tensor images, Tensor labels, FeatureClassifierConfig config, string what)
    {
        if (images.dim() != 4 || images.shape[1] != config.InChannels || images.shape[2] != config.ImageSize || images.shape[3] != config.ImageSize)
            throw new DiffuseException($"{what} images must be [N, {config.InChannels}, {config.ImageSize}, {config.ImageSize}], got [{string.Join(", ", images.shape)}]");
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new DiffuseException($"{what} labels must be [{images.shape[0]}], one per image, got [{string.Join(", ", labels.shape)}]");
        if (labels.dtype != ScalarType.Int64)
            throw new DiffuseException($"{what} labels must be int64, got {labels.dtype}");
        if (labels.shape[0] > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= config.Classes))
            throw new DiffuseException($"{what} labels must lie in [0, {config.Classes}), got [{labels.min().item<long>()}, {labels.max().item<long>()}]");
    }
}
