using Diffuse.Configuration;
using Diffuse.Process;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Heun's second-order method on the probability-flow ODE in sigma (Karras et al. 2022, arXiv:2206.00364,
/// Algorithm 1), with diffusers' <c>HeunDiscreteScheduler</c> semantics: two model calls per step, timesteps
/// [t0, t1, t1, t2, t2, ...], an Euler step to sigma 0 at the end, <c>clip_sample</c> off by default. With
/// <c>s_churn</c> &gt; 0 it is their stochastic Algorithm 2: each step starts from the churned (x_hat, sigma_hat)
/// (<see cref="Churn"/>, through <see cref="SamplingRun.PrepareStep"/> before the first call).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>d, dPrime</term><description>d_i at sigma_i and d'_i at sigma_{i+1}, Algorithm 1 lines 4 and 7</description></item>
/// <item><term>dt</term><description>sigma_{i+1} - sigma_i (t_{i+1} - t_hat_i with churn, Algorithm 2 line 8)</description></item>
/// </list>
/// The run keeps d_i, x_i (x_hat_i with churn) and dt between its first and second call of a step (diffusers' first-order state).
/// </remarks>
public sealed class HeunScheduler : IScheduler
{
    private readonly SigmaTables _tables;

    public HeunScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "heun", takesChurn: true);

    public string Name => "heun";

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps)
    {
        var plan = _tables.Plan(numInferenceSteps);
        return _tables.Track(new Run(plan, Config, Churn.For(Config, numInferenceSteps, plan.TrainSigmas, Name)));
    }

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    private sealed class Run(SigmaPlan plan, SchedulerConfig config, Churn? churn)
        : SigmaRun(SigmaTables.RepeatTail(plan.Timesteps), plan.InitNoiseSigma, config.PredictionType, plan.TwoStageLevels(SigmaTables.RepeatTail(plan.Timesteps)), churn)
    {
        private readonly double[] _sigmas = SigmaTables.RepeatTail(plan.Sigmas[..^1]).Append(plan.Sigmas[^1]).ToArray();
        private torch.Tensor? _derivative, _sample;
        private double _dt;

        public override int Order => 2;

        protected override double ModelSigma(int stepIndex) => _sigmas[stepIndex];

        /// <summary>The first call of each step: the even indices of [t0, t1, t1, t2, t2, ...].</summary>
        protected override double? ChurnLevel(int stepIndex) => stepIndex % 2 == 0 ? _sigmas[stepIndex] : null;

        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            var first = _derivative is null;
            double sigma = first ? StartSigma(stepIndex, _sigmas[stepIndex]) : _sigmas[stepIndex - 1], sigmaNext = _sigmas[first ? stepIndex + 1 : stepIndex];
            var x0 = StepMath.ClipOriginal(PredictedOriginal(modelOutput, x, first ? sigma : sigmaNext), config, byDefault: false);
            if (first)
            {
                var d = (x - x0) / sigma;
                _dt = sigmaNext - sigma;
                if (!IsLast(stepIndex)) (_derivative, _sample) = (d.clone().DetachFromDisposeScope(), x.clone().DetachFromDisposeScope());
                return new StepResult(x + d * _dt, x0);
            }
            var dPrime = (x - x0) / sigmaNext;
            var prev = _sample! + (_derivative! + dPrime) / 2 * _dt; // Algorithm 1, line 8 (Algorithm 2, line 11)
            _derivative!.Dispose();
            _sample!.Dispose();
            (_derivative, _sample) = (null, null);
            return new StepResult(prev, x0);
        }
    }
}
