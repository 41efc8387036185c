using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.Guidance;

/// <summary>
/// Classifier-free guidance (Ho &amp; Salimans 2021, arXiv:2207.12598, Eq. 6) with the guidance rescale of Lin et al. 2023
/// (arXiv:2305.08891, Eq. 15-16), as a wrapper of the denoiser that the sampling loop calls, so that it works with every
/// scheduler: the conditional and the unconditional predictions come from ONE forward pass of the batch doubled
/// (labels, then null labels).
/// </summary>
/// <remarks>
/// | symbol | here |
/// |---|---|
/// | eps_c, eps_u | the prediction channels of the conditional and unconditional outputs (eps, x_0 or v) |
/// | W | <see cref="Conditioning.GuidanceScale"/>: eps = eps_u + W (eps_c - eps_u) (Ho &amp; Salimans' w = W - 1) |
/// | phi | <see cref="Conditioning.GuidanceRescale"/> |
/// A learned-variance model's variance channels are not guided: the conditional ones are kept, as improved-diffusion's
/// and diffusers' guided samplers do.
/// </remarks>
public static class ClassifierFreeGuidance
{
    /// <summary>eps_u + W (eps_c - eps_u), elementwise.</summary>
    public static Tensor Combine(Tensor conditional, Tensor unconditional, double scale) =>
        unconditional + scale * (conditional - unconditional);

    /// <summary>
    /// Eq. 15-16 of Lin et al. 2023: x_rescaled = x_cfg std(x_pos) / std(x_cfg), x_final = phi x_rescaled + (1 - phi) x_cfg,
    /// with each sample's standard deviation over all its values (unbiased, as diffusers' <c>rescale_noise_cfg</c>).
    /// </summary>
    public static Tensor Rescale(Tensor guided, Tensor conditional, double phi)
    {
        using var scope = NewDisposeScope();
        var dims = Enumerable.Range(1, (int)guided.dim() - 1).Select(d => (long)d).ToArray();
        var rescaled = guided * (conditional.std(dims, keepdim: true) / guided.std(dims, keepdim: true));
        return (phi * rescaled + (1 - phi) * guided).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The guided denoiser: (x_t [B, ...], t [B]) to the guided output, for labels [B] (int64). Scale 1 is the
    /// conditional network alone and scale 0 (without rescale) the unconditional one, each in one pass of B; otherwise
    /// one pass of 2B. The first <paramref name="predictionChannels"/> channels are guided; any further channels (a
    /// learned variance) are the conditional output's.
    /// </summary>
    public static Func<Tensor, Tensor, Tensor> Wrap(Func<Tensor, Tensor, Tensor, Tensor> network, Tensor labels, long nullLabel,
        double scale, double rescale, int predictionChannels) =>
        Wrap(network, labels, full_like(labels, nullLabel), scale, rescale, predictionChannels);

    /// <summary>
    /// As the label version, for any condition batched along dimension 0: <paramref name="condition"/> [B, ...] (class
    /// labels, or a text model's prompt tokens [B, L]) and the unconditional input <paramref name="nullCondition"/> of
    /// the same shape (null labels, or the empty prompt's tokens).
    /// </summary>
    public static Func<Tensor, Tensor, Tensor> Wrap(Func<Tensor, Tensor, Tensor, Tensor> network, Tensor condition, Tensor nullCondition,
        double scale, double rescale, int predictionChannels)
    {
        if (scale == 1) return (x, t) => network(x, t, condition);
        if (scale == 0 && rescale == 0) return (x, t) => network(x, t, nullCondition);
        return (x, t) =>
        {
            using var scope = NewDisposeScope();
            long b = x.shape[0];
            var output = network(cat([x, x], 0), cat([t, t], 0), cat([condition, nullCondition], 0));
            var conditional = output.narrow(0, 0, b);
            var unconditional = output.narrow(0, b, b);
            var c = conditional.narrow(1, 0, predictionChannels);
            var guided = Combine(c, unconditional.narrow(1, 0, predictionChannels), scale);
            if (rescale > 0) guided = Rescale(guided, c, rescale);
            return LearnedVariance.WithVarianceOf(guided, conditional, predictionChannels).MoveToOuterDisposeScope();
        };
    }
}
