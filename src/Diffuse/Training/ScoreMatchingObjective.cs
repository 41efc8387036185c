using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// Denoising score matching in continuous time (Song et al. 2021, arXiv:2011.13456, Eq. 7): t ~ U(eps, 1), z ~ N(0, I),
/// x_t = m(t) x_0 + sigma(t) z, and the network, fed (c_in(t) x_t, 999 t) as <see cref="SdeSpecExtensions.Score"/> reads it, regresses z.
/// </summary>
/// <remarks>
/// With the score s = -output / sigma(t), lambda(t) ||s + z / sigma(t)||^2 = lambda(t) / sigma(t)^2 ||output - z||^2, so
/// <list type="table">
/// <item><term>simple</term><description>lambda = sigma(t)^2, score_sde's default weighting: the plain mean over dimensions of ||output - z||^2</description></item>
/// <item><term>min_snr</term><description>weight min(SNR, gamma) / SNR with SNR = m(t)^2 / sigma(t)^2 (Hang et al. 2023, arXiv:2303.09556), as the discrete epsilon loss</description></item>
/// <item><term>likelihood</term><description>lambda = g(t)^2 (Song et al. 2021, arXiv:2101.09258, Thm. 1): weight g(t)^2 / sigma(t)^2. Near t = eps the
/// VP weight reaches beta_min / (beta_min eps) = 1 / eps, so the loss is far noisier than the simple one (that paper pairs it with importance sampling)</description></item>
/// </list>
/// The per-sample m(t), sigma(t) and weights are evaluated in double precision by the <see cref="Sde"/> classes themselves.
/// </remarks>
public sealed class ScoreMatchingObjective
{
    private readonly double minSnrGamma;

    public ScoreMatchingObjective(SdeSpec spec, LossWeighting weighting = LossWeighting.Simple, double minSnrGamma = 5.0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (weighting == LossWeighting.Hybrid) throw new DiffuseException("an SDE model is trained by score matching; the hybrid loss does not apply");
        if (weighting == LossWeighting.MinSnr && !(minSnrGamma > 0)) throw new DiffuseException($"min_snr gamma must be positive, got {minSnrGamma}");
        Spec = spec;
        Weighting = weighting;
        this.minSnrGamma = minSnrGamma;
        Sde = spec.CreateSde();
    }

    public SdeSpec Spec { get; }
    public Sde Sde { get; }
    public LossWeighting Weighting { get; }

    /// <summary>Training times t ~ U(eps, 1), float64 [B] on the CPU.</summary>
    public Tensor SampleTimes(long batchSize, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var u = rand([batchSize], ScalarType.Float64, CPU, generator: generator);
        return u * (1 - Spec.Eps) + Spec.Eps;
    }

    /// <summary>The mean loss of <paramref name="model"/> on <paramref name="x0"/>, t and then the noise drawn from <paramref name="generator"/>.</summary>
    public Tensor Loss(Func<Tensor, Tensor, Tensor> model, Tensor x0, Generator generator)
    {
        using var perSample = PerSampleLoss(model, x0, generator);
        return perSample.mean();
    }

    /// <summary>The weighted loss of each sample [B], t and then the noise drawn from <paramref name="generator"/>.</summary>
    public Tensor PerSampleLoss(Func<Tensor, Tensor, Tensor> model, Tensor x0, Generator generator)
    {
        using var scope = NewDisposeScope();
        var t = SampleTimes(x0.shape[0], generator);
        var noise = Noise.RandnLike(x0, generator);
        return PerSampleLoss(model, x0, t, noise).MoveToOuterDisposeScope();
    }

    /// <summary>The weighted loss of each sample [B] at times <paramref name="t"/> [B] (in (0, 1]) with noise z = <paramref name="noise"/>.</summary>
    public Tensor PerSampleLoss(Func<Tensor, Tensor, Tensor> model, Tensor x0, Tensor t, Tensor noise)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        long batch = x0.shape[0];
        var times = t.to(ScalarType.Float64).cpu().data<double>().ToArray();
        if (times.Length != batch) throw new DiffuseException($"score matching needs one time per sample, got {times.Length} for {batch}");
        var m = new double[batch];
        var sigma = new double[batch];
        var cIn = new double[batch];
        var weight = new double[batch];
        for (int i = 0; i < batch; i++)
        {
            m[i] = Sde.MeanScale(times[i]);
            sigma[i] = Sde.MarginalStd(times[i]);
            cIn[i] = Spec.InputScale(sigma[i]);
            weight[i] = Weight(times[i], m[i], sigma[i]);
        }
        var perSampleShape = new long[x0.dim()];
        Array.Fill(perSampleShape, 1L);
        perSampleShape[0] = batch;
        Tensor Column(double[] values) => tensor(values, x0.dtype, x0.device).reshape(perSampleShape);
        var xt = Column(m) * x0 + Column(sigma) * noise;
        var labels = tensor(times.Select(v => (float)(SdeSpec.TimeLabelScale * v)).ToArray(), ScalarType.Float32, x0.device);
        var output = model(Column(cIn) * xt, labels);
        var perSample = (output - noise).square().reshape(batch, -1).mean([1]);
        if (Weighting is LossWeighting.Simple) return perSample.MoveToOuterDisposeScope();
        return (perSample * tensor(weight, perSample.dtype, perSample.device)).MoveToOuterDisposeScope();
    }

    /// <summary>The weight of ||output - z||^2 at time t (see the remarks).</summary>
    public double Weight(double t, double m, double sigma) => Weighting switch
    {
        LossWeighting.MinSnr => Math.Min(1.0, minSnrGamma * sigma * sigma / (m * m)),
        LossWeighting.Likelihood => Sde.Diffusion(t) * Sde.Diffusion(t) / (sigma * sigma),
        _ => 1.0,
    };
}
