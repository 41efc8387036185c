using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>
/// The variational bound -log p(x_0) &lt;= L_T + sum_{t &gt; 1} L_{t-1} + L_0 of a discrete-time model in bits per dimension
/// (Ho et al. 2020, arXiv:2006.11239, Eq. 5; Nichol &amp; Dhariwal 2021, arXiv:2102.09672, Eq. 4-6): the prior term
/// KL(q(x_T | x_0) || N(0, I)), the Gaussian KLs between the posterior q(x_{t-1} | x_t, x_0) and the model's
/// p(x_{t-1} | x_t), and the decoder. The model's mean is the posterior mean at its predicted x_0.
/// </summary>
/// <remarks>
/// beta_t is the step's own beta, 1 - abar_t / abar_{t-1}, as <see cref="PosteriorCoefficients"/>. Timesteps index
/// the schedule from 0: term t = 0 is the decoder L_0, term t &gt; 0 is L_t's KL between the steps t and t - 1.
/// </remarks>
public sealed class VariationalBound
{
    private readonly CachedTable _logSmall, _logLarge, _logBeta;

    /// <param name="clipDenoised">Clamp the predicted x_0 to [-1, 1] (improved-diffusion's <c>clip_denoised</c>, for images).</param>
    public VariationalBound(GaussianDiffusion diffusion, ReverseVariance variance, DataDecoder decoder, bool clipDenoised = false)
    {
        ArgumentNullException.ThrowIfNull(diffusion);
        Diffusion = diffusion;
        Variance = variance;
        Decoder = decoder;
        ClipDenoised = clipDenoised;
        var abar = diffusion.Schedule.AlphasCumprod;
        int n = abar.Length;
        if (n < 2) throw new DiffuseException("the variational bound needs at least 2 timesteps");
        var posterior = Enumerable.Range(0, n).Select(t => PosteriorCoefficients.For(abar[t], t == 0 ? 1.0 : abar[t - 1])).ToArray();
        var beta = Enumerable.Range(0, n).Select(t => 1 - abar[t] / (t == 0 ? 1.0 : abar[t - 1])).ToArray();
        // beta-tilde_0 = 0: take beta-tilde_1 there, as improved-diffusion (for fixed_small's log and fixed_large's t = 0).
        _logSmall = Table(n, t => Math.Log(t == 0 ? posterior[1].Variance : posterior[t].Variance));
        _logLarge = Table(n, t => Math.Log(t == 0 ? posterior[1].Variance : beta[t]));
        _logBeta = Table(n, t => Math.Log(beta[t]));
    }

    public GaussianDiffusion Diffusion { get; }
    public ReverseVariance Variance { get; }
    public DataDecoder Decoder { get; }
    public bool ClipDenoised { get; }

    /// <summary>
    /// The model's mean and log-variance of p(x_{t-1} | x_t) from its output (with 2C channels along dim 1 for
    /// <see cref="ReverseVariance.LearnedRange"/>, the second half being v).
    /// </summary>
    public (Tensor Mean, Tensor LogVariance) ReverseMeanLogVariance(Tensor modelOutput, Tensor xt, Tensor t)
    {
        using var scope = NewDisposeScope();
        var prediction = modelOutput;
        Tensor logVariance;
        if (Variance == ReverseVariance.LearnedRange)
        {
            (prediction, var variance) = LearnedVariance.Split(modelOutput, xt.shape[1]);
            var fraction = (variance + 1) / 2;
            logVariance = fraction * Gather(_logBeta, t, xt) + (1 - fraction) * Gather(_logSmall, t, xt);
        }
        else logVariance = Gather(Variance == ReverseVariance.FixedSmall ? _logSmall : _logLarge, t, xt).expand_as(xt);
        var x0 = Diffusion.PredictedOriginal(prediction, xt, t);
        if (ClipDenoised) x0 = x0.clamp(-1, 1);
        var mean = Diffusion.PosteriorMeanVariance(x0, xt, t).Mean;
        return (mean.MoveToOuterDisposeScope(), logVariance.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The bound's term at each sample's timestep, bits/dim [B]: KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)) for t &gt; 0 and
    /// the decoder's -log p(x_0 | x_1) for t = 0 (improved-diffusion's <c>_vb_terms_bpd</c>).
    /// </summary>
    public Tensor TermBitsPerDim(Tensor modelOutput, Tensor x0, Tensor xt, Tensor t)
    {
        using var scope = NewDisposeScope();
        var (mean, logVariance) = ReverseMeanLogVariance(modelOutput, xt, t);
        var posterior = Diffusion.PosteriorMeanVariance(x0, xt, t);
        var kl = GaussianLikelihoods.MeanBitsPerDim(GaussianLikelihoods.NormalKl(posterior.Mean, Gather(_logSmall, t, xt), mean, logVariance));
        var logLikelihood = Decoder == DataDecoder.Discretized8Bit
            ? GaussianLikelihoods.DiscretizedGaussianLogLikelihood(x0, mean, 0.5 * logVariance)
            : GaussianLikelihoods.GaussianLogLikelihood(x0, mean, 0.5 * logVariance);
        var decoderNll = GaussianLikelihoods.MeanBitsPerDim(-logLikelihood);
        return where(t.reshape(-1).to(kl.device) == 0, decoderNll, kl).MoveToOuterDisposeScope();
    }

    /// <summary>L_T = KL(q(x_T | x_0) || N(0, I)) in bits/dim [B] (improved-diffusion's <c>_prior_bpd</c>).</summary>
    public Tensor PriorBitsPerDim(Tensor x0)
    {
        using var scope = NewDisposeScope();
        var abar = Diffusion.Schedule.AlphaCumprod(Diffusion.Schedule.NumTrainTimesteps - 1);
        var kl = GaussianLikelihoods.NormalKl(x0 * Math.Sqrt(abar), full_like(x0, Math.Log(1 - abar)), zeros_like(x0), zeros_like(x0));
        return GaussianLikelihoods.MeanBitsPerDim(kl).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The whole bound of x_0 [B, ...] for <paramref name="model"/> (x_t, t [B] int64) → output, one draw of x_t per term
    /// from <paramref name="generator"/> (improved-diffusion's <c>calc_bpd_loop</c>); <paramref name="progress"/> hears the
    /// number of terms done after each.
    /// </summary>
    public ElboResult Evaluate(Func<Tensor, Tensor, Tensor> model, Tensor x0, Generator generator, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = no_grad();
        int n = Diffusion.Schedule.NumTrainTimesteps;
        long batch = x0.shape[0];
        var terms = zeros(batch, n, x0.dtype, x0.device);
        for (int step = n - 1; step >= 0; step--)
        {
            using var scope = NewDisposeScope();
            var t = full(batch, step, int64, x0.device);
            var xt = Diffusion.QSample(x0, t, Noise.RandnLike(x0, generator));
            terms[.., step] = TermBitsPerDim(model(xt, t), x0, xt, t);
            NativeMemory.ReleaseFreedEvery(n - step, 50);
            progress?.Report(n - step);
        }
        var prior = PriorBitsPerDim(x0);
        return new ElboResult(terms.sum(1) + prior, prior, terms);
    }

    private static CachedTable Table(int n, Func<int, double> value) => new(Enumerable.Range(0, n).Select(value).ToArray(), float64);

    private static Tensor Gather(CachedTable table, Tensor t, Tensor like) =>
        table.Gather(t, like.dim(), like.is_floating_point() ? like.dtype : float64, like.device);
}
