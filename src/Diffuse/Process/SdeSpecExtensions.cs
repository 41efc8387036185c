using Diffuse.Configuration;
using static TorchSharp.torch;

namespace Diffuse.Process;

/// <summary>What an <see cref="SdeSpec"/> (config.json's "sde") builds: its forward SDE and the score of a network trained on it.</summary>
internal static class SdeSpecExtensions
{
    /// <summary>The forward SDE discretised into <paramref name="steps"/> steps (the predictor-corrector sampler's N).</summary>
    public static Sde CreateSde(this SdeSpec spec, int steps)
    {
        spec.Validate();
        if (steps < 2) throw new DiffuseException($"an SDE sampler needs at least 2 steps, got {steps}");
        return spec.Type switch
        {
            SdeType.Vp => new VpSde(spec.BetaMin, spec.BetaMax, steps),
            SdeType.SubVp => new SubVpSde(spec.BetaMin, spec.BetaMax, steps),
            _ => new VeSde(spec.SigmaMin, spec.SigmaMax, steps),
        };
    }

    /// <summary>The forward SDE at its own <see cref="SdeSpec.DiscreteSteps"/>.</summary>
    public static Sde CreateSde(this SdeSpec spec) => spec.CreateSde(spec.DiscreteSteps);

    /// <summary>
    /// The score s(x, t) = -network(c_in(t) x, 999 t) / sigma(t) of a network trained on this SDE; differentiable in x.
    /// <paramref name="network"/> takes (input [B, ...], float32 time labels [B]) and predicts the noise.
    /// </summary>
    public static ScoreFunction Score(this SdeSpec spec, Func<Tensor, Tensor, Tensor> network, Sde sde)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(sde);
        return (x, t) =>
        {
            using var scope = NewDisposeScope();
            double sigma = sde.MarginalStd(t);
            var labels = full(x.shape[0], SdeSpec.TimeLabelScale * t, ScalarType.Float32, x.device);
            double cIn = spec.InputScale(sigma);
            var eps = network(cIn == 1.0 ? x : x * cIn, labels);
            return (eps * (-1.0 / sigma)).MoveToOuterDisposeScope();
        };
    }

}
