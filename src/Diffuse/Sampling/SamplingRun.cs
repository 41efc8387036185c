using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// The state of one sampling run: its timesteps and whatever history a multistep method keeps.
/// The loop is
/// <code>
/// var run = scheduler.Begin(n);
/// x = x * run.InitNoiseSigma;
/// foreach t in run.Timesteps:
///     var input = run.PrepareStep(x, t, generators);
///     x = run.Step(model(run.ScaleModelInput(input.Sample, t), input.Timestep), t, input.Sample, generators).PrevSample;
/// </code>
/// </summary>
public abstract class SamplingRun
{
    /// <summary>The timesteps to visit, descending, int64, as diffusers' <c>scheduler.timesteps</c>. Owned by the run (outside any dispose scope): do not dispose it.</summary>
    public abstract torch.Tensor Timesteps { get; }

    /// <summary>The standard deviation of the initial noise (1 for DDPM and DDIM).</summary>
    public virtual double InitNoiseSigma => 1.0;

    /// <summary>Model calls per step of the method (diffusers' <c>scheduler.order</c>).</summary>
    public virtual int Order => 1;

    /// <summary>Scales the model input at timestep <paramref name="t"/> (identity for DDPM and DDIM).</summary>
    public virtual torch.Tensor ScaleModelInput(torch.Tensor x, torch.Tensor t) => x.alias();

    /// <summary>
    /// x0 noised to the level the run has at timestep <paramref name="t"/> (one timestep, or one per sample), in the
    /// parameterisation its steps take: exact for the run's own timesteps and free of any state shared with other
    /// runs (see <see cref="IScheduler.AddNoise"/>). An img2img start is <c>x = run.AddNoise(x0, noise, ts[k])</c>,
    /// then the loop from <c>ts[k]</c>.
    /// </summary>
    public virtual torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) =>
        throw new DiffuseException($"{GetType().Name} does not add noise itself; use its scheduler's AddNoise");

    /// <summary>
    /// What the model is called on at timestep <paramref name="t"/>: the sample the step starts from and the timestep the
    /// model is told. <paramref name="x"/> and <paramref name="t"/> themselves, except in a run with EDM's churn (Euler and
    /// Heun with <c>s_churn</c>; Karras et al. 2022, Algorithm 2, lines 4-6), which first raises the sample's noise level
    /// from sigma_i to sigma_hat with noise from <paramref name="generators"/> and tells the model sigma_hat's timestep.
    /// <see cref="ScaleModelInput"/> and <see cref="Step"/> then take <see cref="StepInput.Sample"/> with the same
    /// <paramref name="t"/>; a run that churns at t refuses a step not prepared so.
    /// </summary>
    public virtual StepInput PrepareStep(torch.Tensor x, torch.Tensor t, SampleGenerators? generators) => new(x.alias(), t.alias());

    /// <summary>One reverse step from <paramref name="x"/> at <paramref name="t"/> given the model's output there.</summary>
    /// <param name="generators">
    /// Source of the step's noise: one generator per sample, or a <see cref="torch.Generator"/> the whole batch draws from; a
    /// stochastic step without one is an error (the library never uses the global generator).
    /// </param>
    public abstract StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators);
}

/// <summary>What the model sees at a step (<see cref="SamplingRun.PrepareStep"/>): the sample the step starts from, and the timestep (one, or one per sample) the model is told.</summary>
public sealed record StepInput(torch.Tensor Sample, torch.Tensor Timestep);

/// <summary>The result of one step: the sample at the previous timestep and the predicted x_0.</summary>
public sealed record StepResult(torch.Tensor PrevSample, torch.Tensor? PredOriginalSample);
