using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// DPM-Solver-2 in sigma (k-diffusion's <c>sample_dpm_2</c>; Lu et al. 2022, arXiv:2206.00927, Algorithm 1 with
/// the midpoint taken in log sigma), with diffusers' <c>KDPM2DiscreteScheduler</c> semantics: two model calls per
/// step, the second at the log-space midpoint sigma_mid = sqrt(sigma_i sigma_{i+1}) and its solved timestep, so the
/// timesteps are [t0, t_mid1, t1, t_mid2, t2, ...]; the last step goes to sigma 0 with one call. As in diffusers,
/// <c>sample</c> prediction is refused; <c>clip_sample</c> is not a key of this scheduler.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>sigmaMid</term><description>exp((log sigma_i + log sigma_{i+1}) / 2), the midpoint s_i of Algorithm 1 in log sigma</description></item>
/// <item><term>d</term><description>(x - D(x; sigma)) / sigma, Eq. 3 of Karras et al. 2022 (arXiv:2206.00364), at sigma_i, then at sigma_mid</description></item>
/// </list>
/// The run keeps x_i between the first call of a step (an Euler step to sigma_mid) and the second (from x_i to
/// sigma_{i+1} with the derivative at sigma_mid).
/// </remarks>
public sealed class Dpm2Scheduler : IScheduler
{
    private readonly SigmaTables _tables;

    public Dpm2Scheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "dpm2", supported: ConfigValidation.EpsilonOrV);

    public string Name => "dpm2";

    /// <summary>epsilon and v_prediction, as diffusers (which raises for <c>sample</c>).</summary>
    public IReadOnlyList<PredictionType> SupportedPredictionTypes => ConfigValidation.EpsilonOrV;

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps) => _tables.Track(Run.Create(_tables.Plan(numInferenceSteps, roundSolvedTimesteps: true), _tables.PredictionType));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    private sealed class Run(double[] timesteps, SigmaPlan plan, double[] mids, PredictionType type)
        : SigmaRun(timesteps, plan.InitNoiseSigma, type, plan.TwoStageLevels(timesteps))
    {
        // diffusers' layout: [v0, v1, v1, v2, v2, ..., vn, vn, vn], indexed by the step index.
        private readonly double[] _sigmas = SigmaTables.RepeatTail(plan.Sigmas).Append(plan.Sigmas[^1]).ToArray();
        private readonly double[] _mids = SigmaTables.RepeatTail(mids).Append(mids[^1]).ToArray();
        private torch.Tensor? _sample;

        public static Run Create(SigmaPlan plan, PredictionType type)
        {
            var s = plan.Sigmas; // n + 1, ending at 0
            var mids = SigmaTables.LogMidpoints(s, s.Take(1).Select(_ => 0.0).Concat(s.SkipLast(1)).ToArray()); // sigma_i with sigma_{i-1}
            var ts = plan.Timesteps.Take(1)
                .Concat(plan.Timesteps.Skip(1).SelectMany((t, j) => new[] { SigmaSchedules.SigmaToTimestep(mids[j + 1], plan.TrainSigmas), t }));
            return new Run(ts.ToArray(), plan, mids, type);
        }

        public override int Order => 2;

        protected override double ModelSigma(int stepIndex) => _sample is null ? _sigmas[stepIndex] : _mids[stepIndex];

        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            var first = _sample is null;
            double sigma = _sigmas[first ? stepIndex : stepIndex - 1], sigmaMid = _mids[first ? stepIndex + 1 : stepIndex];
            var x0 = PredictedOriginal(modelOutput, x, first ? sigma : sigmaMid);
            if (first)
            {
                if (!IsLast(stepIndex)) _sample = x.clone().DetachFromDisposeScope();
                return new StepResult(x + (x - x0) / sigma * (sigmaMid - sigma), x0); // Euler to sigma_mid
            }
            var prev = _sample! + (x - x0) / sigmaMid * (_sigmas[stepIndex] - sigma); // x_i to sigma_{i+1}, d taken at sigma_mid
            _sample!.Dispose();
            _sample = null;
            return new StepResult(prev, x0);
        }
    }
}
