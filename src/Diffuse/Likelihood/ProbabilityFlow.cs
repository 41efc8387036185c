using Diffuse.Ode;
using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>
/// The probability-flow ODE dx/dt = f(x, t) - g(t)^2 s(x, t) / 2 of an SDE (Song et al. 2021, arXiv:2011.13456, Eq. 13),
/// which shares the SDE's marginals: deterministic sampling from the prior, and exact likelihoods by the
/// instantaneous change of variables, log p_0(x(0)) = log p_T(x(T)) + int_0^T div f~(x(t), t) dt (their Eq. 39;
/// Chen et al. 2018), both solved with adaptive <see cref="DormandPrince"/>.
/// </summary>
public static class ProbabilityFlow
{
    /// <summary>Samples of <paramref name="shape"/>: prior draws from <paramref name="generators"/> (per sample, or shared), carried from T to eps.</summary>
    public static OdeSample Sample(Sde sde, ScoreFunction score, long[] shape, SampleGenerators generators, ProbabilityFlowOptions options,
        ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(sde);
        ArgumentNullException.ThrowIfNull(score);
        options.Validate();
        using var noGrad = no_grad();
        using var prior = sde.SamplePrior(shape, generators, dtype);
        var solution = DormandPrince.Solve((t, x) => sde.ReverseDrift(score, x, t, probabilityFlow: true), prior, sde.T, options.Eps, options.Tolerances);
        return new OdeSample(solution.State, solution.FunctionEvaluations);
    }

    /// <summary>
    /// -log p(x) of each sample of <paramref name="x"/> [B, ...] under the model that <paramref name="score"/> defines:
    /// the state [x, delta log p] is carried from eps to T (score_sde's <c>likelihood.py</c>); Hutchinson probes, when
    /// used, are drawn once from <paramref name="generator"/>. Bits per dimension are Nll / (D ln 2) + <paramref name="bitsPerDimOffset"/>.
    /// </summary>
    public static LikelihoodResult NegativeLogLikelihood(Sde sde, ScoreFunction score, Tensor x, Generator generator, ProbabilityFlowOptions options,
        double bitsPerDimOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(sde);
        ArgumentNullException.ThrowIfNull(score);
        options.Validate();
        using var scope = NewDisposeScope();
        long batch = x.shape[0];
        var shape = x.shape;
        long dims = x.numel() / batch;
        var probes = Divergence.DrawProbes(x, options.Trace, options.Probes, generator);
        Tensor Augmented(double t, Tensor state)
        {
            var sample = state.narrow(1, 0, dims).reshape(shape);
            var (drift, divergence) = Divergence.Evaluate(xx => sde.ReverseDrift(score, xx, t, probabilityFlow: true), sample, options.Trace, probes);
            return cat([drift.reshape(batch, -1), divergence.unsqueeze(1)], 1);
        }
        var start = cat([x.detach().reshape(batch, -1), zeros(batch, 1, x.dtype, x.device)], 1);
        OdeSolution solution;
        using (no_grad()) solution = DormandPrince.Solve(Augmented, start, options.Eps, sde.T, options.Tolerances);
        var z = solution.State.narrow(1, 0, dims).reshape(shape);
        var deltaLogP = solution.State[.., dims];
        var nll = -(sde.PriorLogDensity(z) + deltaLogP);
        var bits = nll / (dims * Math.Log(2)) + bitsPerDimOffset;
        return new LikelihoodResult(nll.MoveToOuterDisposeScope(), bits.MoveToOuterDisposeScope(), dims, solution.FunctionEvaluations);
    }

    /// <summary>
    /// Bits per dimension of 8-bit images <paramref name="pixels"/> (integers in [0, 255], any shape [B, ...]) under uniform
    /// dequantization: y = pixels + u with u ~ U[0, 1)^D from <paramref name="generator"/>, scaled to x = 2 y / 256 - 1 in
    /// [-1, 1] (Theis et al. 2016; Song et al. 2021, App. D.3). The result bounds the discrete model's -log2 P(pixels) / D in
    /// expectation over u; the scaling adds log2(256 / 2) = 7 bits per dimension.
    /// </summary>
    public static LikelihoodResult ImageBitsPerDim(Sde sde, ScoreFunction score, Tensor pixels, Generator generator, ProbabilityFlowOptions options,
        ScalarType dtype = ScalarType.Float32)
    {
        using var x = Dequantize(pixels, generator, dtype);
        return NegativeLogLikelihood(sde, score, x, generator, options, bitsPerDimOffset: 7);
    }

    /// <summary>(pixels + u) / 128 - 1 with u ~ U[0, 1) drawn on the CPU from <paramref name="generator"/>; pixels must be integers in [0, 255].</summary>
    public static Tensor Dequantize(Tensor pixels, Generator generator, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var scope = NewDisposeScope();
        var values = pixels.to_type(ScalarType.Float64);
        var min = values.min().item<double>();
        var max = values.max().item<double>();
        if (min < 0 || max > 255 || !values.eq(values.round()).all().item<bool>())
            throw new DiffuseException($"8-bit images must hold integers in [0, 255], got values in [{min}, {max}]");
        var u = rand(pixels.shape, ScalarType.Float64, CPU, generator: generator).to(pixels.device);
        return ((values + u) / 128.0 - 1).to_type(dtype).MoveToOuterDisposeScope();
    }
}
