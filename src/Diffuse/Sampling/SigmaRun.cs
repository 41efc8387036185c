using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// What the sigma-based runs (Euler, Heun, LMS, KDPM2 and their ancestral variants) share, with diffusers'
/// semantics: fractional float32 timesteps, the sample held as x = x_0 + sigma eps (Karras et al. 2022,
/// arXiv:2206.00364, Eq. 1), the model fed x / sqrt(sigma^2 + 1), and a step index found from the first
/// timestep seen (its second occurrence when it repeats, so an img2img start skips no sigma) and then counted.
/// </summary>
public abstract class SigmaRun : SamplingRun
{
    private readonly torch.Tensor _timesteps;
    private readonly float[] _timestepValues;
    private readonly PredictionType _predictionType;
    private int? _stepIndex;

    /// <param name="timesteps">The timesteps to visit, descending (repeats allowed for two-stage methods).</param>
    protected SigmaRun(double[] timesteps, double initNoiseSigma, PredictionType predictionType) : this(timesteps, initNoiseSigma, predictionType, null) { }

    /// <param name="levels">The sigma at each step index, for <see cref="AddNoise"/> (see <see cref="SigmaPlan.OneStageLevels"/>).</param>
    private protected SigmaRun(double[] timesteps, double initNoiseSigma, PredictionType predictionType, NoiseLevels? levels)
    {
        Levels = levels;
        _timestepValues = timesteps.Select(t => (float)t).ToArray();
        _timesteps = torch.tensor(_timestepValues, torch.float32).DetachFromDisposeScope();
        InitNoiseSigma = initNoiseSigma;
        _predictionType = predictionType;
    }

    /// <summary>The timesteps, float32 and fractional (diffusers' <c>scheduler.timesteps</c>).</summary>
    public override torch.Tensor Timesteps => _timesteps;

    public override double InitNoiseSigma { get; }

    /// <summary>The run's sigma at each step index (null for a run that did not give them).</summary>
    internal NoiseLevels? Levels { get; }

    /// <summary>x0 + sigma noise, sigma the run's at the step index of <paramref name="t"/> (diffusers' sigma-based <c>add_noise</c>).</summary>
    public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) =>
        (Levels ?? throw new DiffuseException($"{GetType().Name} does not add noise itself; use its scheduler's AddNoise")).AddNoise(x0, noise, t);

    /// <summary>The sigma of the sample the model sees at step <paramref name="stepIndex"/>.</summary>
    protected abstract double ModelSigma(int stepIndex);

    /// <summary>One step at <paramref name="stepIndex"/>; the base advances the index afterwards.</summary>
    protected abstract StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators);

    /// <summary>x / sqrt(sigma^2 + 1): the sample as the x_t of abar = 1 / (sigma^2 + 1) that the model was trained on.</summary>
    public override torch.Tensor ScaleModelInput(torch.Tensor x, torch.Tensor t)
    {
        var sigma = (float)ModelSigma(StepIndex(t));
        return x / MathF.Sqrt(sigma * sigma + 1); // in float32, as diffusers' (sigma**2 + 1) ** 0.5 on a float32 sigma
    }

    /// <summary>The sigma <see cref="ScaleModelInput"/> scales by at <paramref name="t"/> (for tests: the float32 scale rounds 1 + sigma^2).</summary>
    internal double ModelSigmaAt(torch.Tensor t) => ModelSigma(StepIndex(t));

    public sealed override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
    {
        var result = Step(StepIndex(t), modelOutput, x, generators);
        _stepIndex++;
        return result;
    }

    /// <summary>x_0 predicted by the model output for the sample <paramref name="x"/> at <paramref name="sigma"/>.</summary>
    protected torch.Tensor PredictedOriginal(torch.Tensor modelOutput, torch.Tensor x, double sigma) =>
        GaussianDiffusion.PredictedOriginalAtSigma(_predictionType, modelOutput, x, sigma);

    /// <summary>Whether step <paramref name="stepIndex"/> is the run's last.</summary>
    protected bool IsLast(int stepIndex) => stepIndex == _timestepValues.Length - 1;

    private int StepIndex(torch.Tensor t)
    {
        if (_stepIndex is null)
        {
            if (t.numel() != 1) throw new DiffuseException($"a step takes one timestep, got a tensor of shape [{string.Join(", ", t.shape)}]");
            using var asDouble = t.to_type(torch.float64);
            var value = (float)asDouble.item<double>();
            var found = Enumerable.Range(0, _timestepValues.Length).Where(i => _timestepValues[i] == value).Take(2).ToArray();
            if (found.Length == 0) throw new DiffuseException($"timestep {value} is not one of this run's timesteps");
            _stepIndex = found[^1];
        }
        if (_stepIndex >= _timestepValues.Length)
            throw new DiffuseException($"this run has taken all its {_timestepValues.Length} steps; begin a new one");
        return _stepIndex.Value;
    }
}
