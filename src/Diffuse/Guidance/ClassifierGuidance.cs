using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Process;
using Diffuse.Schedules;
using static TorchSharp.torch;

namespace Diffuse.Guidance;

/// <summary>
/// Classifier guidance (Dhariwal &amp; Nichol 2021, arXiv:2105.05233, Algorithm 2 and Eq. 14) as a wrapper of the
/// denoiser that the sampling loop calls, so that every scheduler takes it (as <see cref="ClassifierFreeGuidance"/>):
/// eps_hat = eps - sqrt(1 - abar_t) S grad_x log p(y | x_t). The gradient is taken through the classifier in float32
/// with autograd (the sampling loop runs without), whatever precision the denoiser runs in.
/// </summary>
/// <remarks>
/// | symbol | here |
/// |---|---|
/// | eps | the denoiser's prediction converted to epsilon (a x_t + b out, by <see cref="GaussianDiffusion.ConversionCoefficients"/>) |
/// | abar_t | alphas_cumprod at the (possibly fractional) timestep t: sigma interpolated in log sigma, abar = 1 / (1 + sigma^2) |
/// | S | <see cref="Scale"/> (the paper's s) |
/// | y | <see cref="Labels"/>, one per sample |
/// The output keeps the model's prediction type: out_hat = out + (eps_hat - eps) / b. A learned variance's channels
/// (after the first <c>predictionChannels</c>) pass through unguided.
/// </remarks>
public sealed class ClassifierGuidance
{
    readonly Func<Tensor, Tensor, Tensor> classifier;
    readonly double[] logSigmas;
    readonly PredictionType predictionType;
    readonly int predictionChannels;

    /// <param name="classifier">(x_t, t) to class logits [B, K], differentiable in x_t.</param>
    /// <param name="schedule">The model's noise schedule (the classifier's must be the same).</param>
    /// <param name="labels">The class each sample is guided to, in sample order.</param>
    /// <param name="scale">S &gt;= 0; 0 leaves the denoiser as it is.</param>
    public ClassifierGuidance(Func<Tensor, Tensor, Tensor> classifier, NoiseSchedule schedule, PredictionType predictionType, long[] labels,
        double scale, int predictionChannels)
    {
        if (!(scale >= 0) || !double.IsFinite(scale)) throw DiffuseException.For("classifier_scale", $"classifier_scale must be a number of at least 0, got {scale}");
        this.classifier = classifier;
        this.predictionType = predictionType;
        this.predictionChannels = predictionChannels;
        logSigmas = schedule.AlphasCumprod.Select(a => 0.5 * Math.Log((1 - a) / a)).ToArray();
        Labels = labels;
        Scale = scale;
    }

    public long[] Labels { get; }
    public double Scale { get; }

    /// <summary>
    /// When set, the model's x_0 is clamped to [-range, range] BEFORE the gradient is added (guided-diffusion's order:
    /// <c>p_mean_variance</c> clips, then <c>condition_score</c> guides), and the scheduler should not clip again: a clip
    /// after the guidance removes it at high noise, where (1 - abar) / sqrt(abar) S grad is large. Null: no clip here.
    /// </summary>
    public double? ClipRange { get; set; }

    /// <summary>Checks that there is one label per sample of <paramref name="n"/> and that each lies in [0, K).</summary>
    public void Validate(long n, int numClasses)
    {
        if (Labels.LongLength != n) throw new DiffuseException($"{n} samples need {n} labels for classifier guidance, got {Labels.LongLength}");
        foreach (long label in Labels)
            if (label < 0 || label >= numClasses) throw new DiffuseException($"class {label} is outside the classifier's labels 0..{numClasses - 1}");
    }

    /// <summary>abar at a fractional timestep: log sigma interpolated linearly (the inverse of the samplers' sigma-to-t map).</summary>
    public double AlphaCumprodAt(double t)
    {
        double clamped = Math.Clamp(t, 0, logSigmas.Length - 1);
        int i = Math.Min((int)Math.Floor(clamped), logSigmas.Length - 2);
        double logSigma = logSigmas.Length == 1 ? logSigmas[0] : logSigmas[i] + (clamped - i) * (logSigmas[i + 1] - logSigmas[i]);
        return 1 / (1 + Math.Exp(2 * logSigma));
    }

    /// <summary>grad_x log p(y | x_t) [B, C, H, W] in float32: autograd through the classifier, whatever grad mode the caller is in.</summary>
    public static Tensor LogProbabilityGradient(Func<Tensor, Tensor, Tensor> classifier, Tensor x, Tensor t, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var input = x.detach().to(ScalarType.Float32).requires_grad_(true);
        var logProbability = nn.functional.log_softmax(classifier(input, t), 1).gather(1, labels.unsqueeze(1)).sum();
        return autograd.grad([logProbability], [input])[0].detach().MoveToOuterDisposeScope();
    }

    /// <summary>The guided denoiser of samples [start, start + size): (x_t, t) to the guided output.</summary>
    public Func<Tensor, Tensor, Tensor> Wrap(Func<Tensor, Tensor, Tensor> denoiser, long start, long size)
    {
        if (Scale == 0) return denoiser;
        var labels = tensor(Labels.AsSpan((int)start, (int)size).ToArray(), ScalarType.Int64);
        return (x, t) =>
        {
            using var scope = NewDisposeScope();
            var output = denoiser(x, t);
            var gradient = LogProbabilityGradient(classifier, x, t, labels);
            double[] times;
            using (var asDouble = t.to_type(ScalarType.Float64).cpu()) times = asDouble.data<double>().ToArray();
            // out_hat = out - sqrt(1 - abar) S grad / b, b the coefficient of out in eps (eps = a x_t + b out).
            var factor = times.Select(time =>
            {
                double alphaCumprod = AlphaCumprodAt(time);
                double b = GaussianDiffusion.ConversionCoefficients(predictionType, PredictionType.Epsilon, alphaCumprod).OfOutput;
                return Math.Abs(b) < 1e-12 ? 0.0 : -Math.Sqrt(1 - alphaCumprod) * Scale / b;
            }).Select(f => (float)f).ToArray();
            var perSample = tensor(factor).view(-1, 1, 1, 1).to(output.device);
            var prediction = output.narrow(1, 0, predictionChannels);
            if (ClipRange is { } range) prediction = ClipOriginal(prediction, x, times, range);
            var guided = prediction + perSample * gradient.to(output.device);
            return LearnedVariance.WithVarianceOf(guided, output, predictionChannels).MoveToOuterDisposeScope();
        };
    }

    /// <summary>The prediction whose x_0 (x_0 = A x_t + B out) is clamped to [-range, range]: out' = (clamp(x_0) - A x_t) / B.</summary>
    Tensor ClipOriginal(Tensor prediction, Tensor x, double[] times, double range)
    {
        var coefficients = times.Select(time => GaussianDiffusion.ConversionCoefficients(predictionType, PredictionType.Sample, AlphaCumprodAt(time))).ToArray();
        var a = tensor(coefficients.Select(c => (float)c.OfXt).ToArray()).view(-1, 1, 1, 1).to(prediction.device);
        var b = tensor(coefficients.Select(c => (float)c.OfOutput).ToArray()).view(-1, 1, 1, 1).to(prediction.device);
        var xt = x.to(prediction.dtype);
        return ((a * xt + b * prediction).clamp(-range, range) - a * xt) / b;
    }

    /// <summary>
    /// The sampling plan of <paramref name="inner"/> (null: unconditional sampling) with this guidance applied to each batch's
    /// denoiser, one label per sample; score samplers cannot take it.
    /// </summary>
    public ISamplingConditioning Over(ISamplingConditioning? inner = null) => new ClassifierGuided(this, inner ?? Unconditional.Instance);

    /// <summary>The guidance of a trained <see cref="NoisyClassifier"/> (run in float32).</summary>
    public static ClassifierGuidance For(NoisyClassifier network, NoiseSchedule schedule, PredictionType predictionType, long[] labels, double scale,
        int predictionChannels) =>
        new((x, t) => network.forward(x, t), schedule, predictionType, labels, scale, predictionChannels);
}
