using Diffuse.Configuration;
using Diffuse.Models;
using static TorchSharp.torch;

namespace Diffuse.Guidance;

/// <summary>
/// What a class-conditional image model is asked to draw: one label per sample and the classifier-free guidance
/// settings (see <see cref="ClassifierFreeGuidance"/>). Labels lie in [0, K) for a model of K classes; K itself is the
/// null label (an unconditional sample from the same network). As a sampling plan it guides each batch with one doubled
/// forward pass (<see cref="ClassifierFreeGuidance"/>).
/// </summary>
/// <param name="Labels">The class of each sample, in sample order.</param>
/// <param name="GuidanceScale">
/// W in eps = eps_u + W (eps_c - eps_u), the convention of diffusers' <c>guidance_scale</c>: 0 is the unconditional
/// model, 1 the plain conditional model (no guidance, one forward pass), above 1 guided. Ho &amp; Salimans 2021 write the
/// same as (1 + w) eps_c - w eps_u, so W = 1 + w.
/// </param>
/// <param name="GuidanceRescale">
/// phi of Lin et al. 2023 (arXiv:2305.08891, Eq. 15-16) in [0, 1]: how far the guided prediction's standard deviation
/// is pulled back to the conditional one's (0: plain guidance).
/// </param>
public sealed record Conditioning(long[] Labels, double GuidanceScale = 1.0, double GuidanceRescale = 0.0) : ISamplingConditioning
{
    /// <summary>Checks the settings against the class-conditional model of <paramref name="config"/> and <paramref name="n"/> samples.</summary>
    public void Validate(ModelConfig config, string directory, long n)
    {
        if (config.Network.ClassCount is not int classes)
            throw new DiffuseException($"'{directory}' takes no classes; class labels and guidance need a model trained with class conditioning");
        Validate(classes, n);
        SamplingPlans.RefuseSuperResolution(config, directory);
    }

    /// <summary>The labels of <paramref name="batch"/> against the null label, guided as <see cref="ClassifierFreeGuidance"/> says.</summary>
    public Func<Tensor, Tensor, Tensor> Denoiser(Func<DenoiserInput, Tensor> denoise, ModelConfig config, SamplingBatch batch)
    {
        var labels = tensor(Labels.AsSpan((int)batch.Start, (int)batch.Size).ToArray(), ScalarType.Int64);
        return ClassifierFreeGuidance.Wrap((x, t, y) => denoise(new DenoiserInput(x, t, new Condition { ClassLabels = y })), labels,
            config.Network.ClassCount!.Value, GuidanceScale, GuidanceRescale, batch.Channels);
    }

    /// <summary>The largest guidance scale W: far beyond any useful one (1 to 30), and below where eps_u + W (eps_c - eps_u) leaves float32's range.</summary>
    public const double MaxGuidanceScale = 1_000;

    /// <summary>Checks the settings against a model of <paramref name="numClasses"/> classes and <paramref name="n"/> samples.</summary>
    public void Validate(int numClasses, long n)
    {
        if (Labels.LongLength != n) throw new DiffuseException($"{n} samples need {n} labels, got {Labels.LongLength}");
        foreach (long label in Labels)
            if (label < 0 || label > numClasses)
                throw new DiffuseException($"class {label} is outside the model's labels 0..{numClasses - 1} ({numClasses} is the null label)");
        SamplingPlans.CheckGuidance(GuidanceScale, GuidanceRescale);
    }

    /// <summary>
    /// <paramref name="n"/> samples of one class each, <paramref name="n"/> rounded up to a multiple of
    /// <paramref name="numClasses"/>: ceil(n / K) samples of class 0, then of class 1, ..., so that a grid of ceil(n / K)
    /// columns has one row per class.
    /// </summary>
    public static Conditioning ClassRows(long n, int numClasses, double guidanceScale = 1.0, double guidanceRescale = 0.0)
    {
        if (numClasses < 1) throw new DiffuseException($"a class grid needs at least one class, got {numClasses}");
        long perClass = PerClass(n, numClasses);
        var labels = new long[perClass * numClasses];
        for (long i = 0; i < labels.LongLength; i++) labels[i] = i / perClass;
        return new Conditioning(labels, guidanceScale, guidanceRescale);
    }

    /// <summary>The samples of each class in <see cref="ClassRows"/>: ceil(n / K), at least 1.</summary>
    public static long PerClass(long n, int numClasses) => Math.Max(1, (n + numClasses - 1) / numClasses);

    /// <summary><paramref name="n"/> labels cycling 0, 1, ..., K-1, 0, 1, ... (balanced classes, as evaluation wants them).</summary>
    public static Conditioning Cycling(long n, int numClasses, double guidanceScale = 1.0, double guidanceRescale = 0.0)
    {
        if (numClasses < 1) throw new DiffuseException($"cycling labels need at least one class, got {numClasses}");
        var labels = new long[n];
        for (long i = 0; i < n; i++) labels[i] = i % numClasses;
        return new Conditioning(labels, guidanceScale, guidanceRescale);
    }

    /// <summary><paramref name="n"/> samples of class <paramref name="label"/>.</summary>
    public static Conditioning Single(long n, long label, double guidanceScale = 1.0, double guidanceRescale = 0.0) =>
        new(Enumerable.Repeat(label, checked((int)n)).ToArray(), guidanceScale, guidanceRescale);
}
