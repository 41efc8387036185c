using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// The noise of one run's stochastic steps, as its config's <c>noise_sampler</c> says: fresh draws from the run's
/// generators (diffusers), or k-diffusion's <c>BrownianTreeNoiseSampler</c>, z = (W(sigma_next) - W(sigma)) /
/// sqrt(|sigma_next - sigma|) for a <see cref="BrownianTree"/> W in sigma over [the smallest non-zero sigma of the run,
/// its largest], whose seed is drawn from the generator at the run's first stochastic step. With per-sample generators
/// each sample has its own tree, seeded from its own generator, so a sample's noise does not depend on its batch. A
/// step calls <see cref="Draw"/> with the sigmas of the Karras et al. 2022 parameterisation it moves between.
/// </summary>
internal sealed class NoiseSource
{
    private readonly NoiseSampler _kind;
    private readonly string _scheduler;
    private readonly double _sigmaMin, _sigmaMax;
    private BrownianTree[]? _trees;
    private long[]? _shape;

    /// <param name="sigmas">The run's sigmas (any order; zeros are left out of the tree's interval).</param>
    /// <param name="scheduler">The scheduler's name, for messages.</param>
    public NoiseSource(NoiseSampler kind, IEnumerable<double> sigmas, string scheduler)
    {
        _kind = kind;
        _scheduler = scheduler;
        var positive = sigmas.Where(s => s > 0).DefaultIfEmpty(0).ToArray();
        (_sigmaMin, _sigmaMax) = (positive.Min(), positive.Max());
    }

    /// <summary>Standard normal noise of <paramref name="like"/>'s shape for the step from <paramref name="sigma"/> to <paramref name="sigmaNext"/>.</summary>
    /// <param name="generators">The batch's generators (one per sample, or one shared); a stochastic step without them is an error.</param>
    public torch.Tensor Draw(torch.Tensor like, double sigma, double sigmaNext, SampleGenerators? generators)
    {
        if (_kind == NoiseSampler.Gaussian) return StepMath.StepNoise(like, generators, _scheduler);
        if (generators is null) throw new DiffuseException($"{_scheduler}: the Brownian tree's seed comes from a torch.Generator; pass one to Step");
        if (!(_sigmaMax > _sigmaMin)) return torch.zeros_like(like); // a single noise level: no interval to move along
        if (_trees is null)
        {
            _shape = like.shape;
            _trees = generators.Parts(like.shape)
                .Select(p => new BrownianTree(p.Shape, _sigmaMin, _sigmaMax, Seed(p.Generator), dtype: like.dtype, device: like.device)).ToArray();
        }
        if (!like.shape.SequenceEqual(_shape!))
            throw new DiffuseException($"{_scheduler}: the sample's shape changed within a run, from [{string.Join(", ", _shape!)}] to [{string.Join(", ", like.shape)}]");
        // Sigmas beyond the interval (a final 0) are clamped into it; a step that leaves no length there adds no noise.
        double a = Math.Clamp(sigma, _sigmaMin, _sigmaMax), b = Math.Clamp(sigmaNext, _sigmaMin, _sigmaMax);
        if (a == b) return torch.zeros_like(like);
        using var scope = torch.NewDisposeScope();
        var increment = _trees.Length == 1 ? _trees[0].Increment(a, b) : torch.cat(_trees.Select(tree => tree.Increment(a, b)).ToArray(), 0);
        return (increment / Math.Sqrt(Math.Abs(b - a))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Fails as <see cref="Draw"/> does without generators, for a stage of a stochastic step that draws nothing
    /// (KDPM2 ancestral's first), so that every call of a stochastic run asks for them alike.
    /// </summary>
    public void RequireGenerator(SampleGenerators? generators)
    {
        if (generators is null) throw new DiffuseException($"{_scheduler}: this step draws noise and needs a torch.Generator; pass one to Step");
    }

    /// <summary>One int64 in [0, 2^63 - 1) from a generator, as k-diffusion draws the tree's entropy.</summary>
    private static ulong Seed(torch.Generator generator)
    {
        using var seed = torch.randint(0, long.MaxValue, [1], dtype: torch.int64, generator: generator);
        return (ulong)seed.item<long>();
    }
}
