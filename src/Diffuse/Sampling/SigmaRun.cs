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
internal abstract class SigmaRun : SamplingRun
{
    private readonly torch.Tensor _timesteps;
    private readonly float[] _timestepValues;
    private readonly PredictionType _predictionType;
    private readonly Churn? _churn;
    private int? _stepIndex;
    private (int StepIndex, double SigmaHat)? _churned;

    /// <param name="timesteps">The timesteps to visit, descending (repeats allowed for two-stage methods).</param>
    protected SigmaRun(double[] timesteps, double initNoiseSigma, PredictionType predictionType) : this(timesteps, initNoiseSigma, predictionType, null) { }

    /// <param name="levels">The sigma at each step index, for <see cref="AddNoise"/> (see <see cref="SigmaPlan.OneStageLevels"/>).</param>
    /// <param name="churn">EDM's churn before each step that <see cref="ChurnLevel"/> names; null for none.</param>
    private protected SigmaRun(double[] timesteps, double initNoiseSigma, PredictionType predictionType, NoiseLevels? levels, Churn? churn = null)
    {
        Levels = levels;
        _churn = churn;
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

    /// <summary>The sigma of the sample the model sees at step <paramref name="stepIndex"/> (before any churn).</summary>
    protected abstract double ModelSigma(int stepIndex);

    /// <summary>
    /// The level sigma_i a churn may raise at step index <paramref name="stepIndex"/>: where a step of the method begins
    /// (every index of a one-stage method, the first stage of a two-stage one); null elsewhere. By default none.
    /// </summary>
    protected virtual double? ChurnLevel(int stepIndex) => null;

    /// <summary>One step at <paramref name="stepIndex"/>; the base advances the index afterwards.</summary>
    protected abstract StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators);

    /// <summary>
    /// The level the step at <paramref name="stepIndex"/> starts from: sigma_hat when <see cref="PrepareStep"/> churned it,
    /// else <paramref name="sigma"/> (the run's sigma_i there).
    /// </summary>
    protected double StartSigma(int stepIndex, double sigma) => _churned is { } c && c.StepIndex == stepIndex ? c.SigmaHat : sigma;

    /// <summary>
    /// With churn, at a step's first index: x_hat = x + sqrt(sigma_hat^2 - sigma^2) s_noise eps and sigma_hat's timestep
    /// (<see cref="Churn"/>); else x and t.
    /// </summary>
    public sealed override StepInput PrepareStep(torch.Tensor x, torch.Tensor t, SampleGenerators? generators)
    {
        int index = StepIndex(t);
        _churned = null;
        if (_churn is null || ChurnLevel(index) is not double sigma) return base.PrepareStep(x, t, generators);
        double sigmaHat = _churn.SigmaHat(sigma);
        if (sigmaHat == sigma) return base.PrepareStep(x, t, generators);
        var xHat = _churn.Raise(x, sigma, sigmaHat, generators);
        _churned = (index, sigmaHat);
        return new StepInput(xHat, _churn.Timestep(sigmaHat));
    }

    /// <summary>x / sqrt(sigma^2 + 1): the sample as the x_t of abar = 1 / (sigma^2 + 1) that the model was trained on (sigma_hat after a churn).</summary>
    public override torch.Tensor ScaleModelInput(torch.Tensor x, torch.Tensor t)
    {
        int index = StepIndex(t);
        var sigma = (float)StartSigma(index, ModelSigma(index));
        return x / MathF.Sqrt(sigma * sigma + 1); // in float32, as diffusers' (sigma**2 + 1) ** 0.5 on a float32 sigma
    }

    /// <summary>The sigma <see cref="ScaleModelInput"/> scales by at <paramref name="t"/> (for tests: the float32 scale rounds 1 + sigma^2).</summary>
    internal double ModelSigmaAt(torch.Tensor t) => ModelSigma(StepIndex(t));

    public sealed override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
    {
        int index = StepIndex(t);
        // A churned step taken from the un-churned sample would be diffusers' Euler churn (noise added after the model
        // saw x at sigma), not Algorithm 2: refuse it rather than sample from another method.
        if (_churn is not null && ChurnLevel(index) is double sigma && _churn.SigmaHat(sigma) != sigma && _churned?.StepIndex != index)
            throw new DiffuseException($"this run churns (s_churn) at step {index}: call PrepareStep before the model and step from its sample");
        var result = Step(index, modelOutput, x, generators);
        _churned = null;
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
