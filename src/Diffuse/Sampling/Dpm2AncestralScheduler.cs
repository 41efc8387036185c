using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Ancestral DPM-Solver-2 (k-diffusion's <c>sample_dpm_2_ancestral</c>, eta 1), with diffusers'
/// <c>KDPM2AncestralDiscreteScheduler</c> semantics: each step splits sigma_i → sigma_{i+1} into sigma_down and
/// sigma_up, takes a DPM-Solver-2 step to sigma_down through the log-space midpoint sqrt(sigma_i sigma_down), then
/// adds noise of standard deviation sigma_up. Two model calls per step, timesteps [t0, t_mid0, t1, t_mid1, ...];
/// one draw of the sample's shape at the second call of each step, as diffusers draws it since v0.31 (before, it
/// drew at both calls and used the second draw), or with <c>noise_sampler brownian_tree</c> a Brownian tree's
/// increment over [sigma_{i+1}, sigma_i] there. The sigmas down and up and the midpoints are float32 as diffusers'
/// tensors (<see cref="SigmaTables.LogMidpoints"/>), to which its reference sums are sensitive. As in diffusers,
/// <c>sample</c> prediction is refused; <c>clip_sample</c> is not a key of this scheduler.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>sigmaDown, sigmaUp</term><description>the ancestral split of sigma_i → sigma_{i+1}, <see cref="SigmaSchedules.AncestralSplit"/></description></item>
/// <item><term>sigmaMid</term><description>exp((log sigma_i + log sigma_down) / 2), 0 on the last step</description></item>
/// <item><term>d</term><description>(x - D(x; sigma)) / sigma, Eq. 3 of Karras et al. 2022 (arXiv:2206.00364), at sigma_i, then at sigma_mid</description></item>
/// </list>
/// </remarks>
public sealed class Dpm2AncestralScheduler : IScheduler
{
    private readonly SigmaTables _tables;

    public Dpm2AncestralScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "dpm2_ancestral", takesNoiseSampler: true, supported: ConfigValidation.EpsilonOrV);

    public string Name => "dpm2_ancestral";

    /// <summary>epsilon and v_prediction, as diffusers (which raises for <c>sample</c>).</summary>
    public IReadOnlyList<PredictionType> SupportedPredictionTypes => ConfigValidation.EpsilonOrV;

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps) => _tables.Track(Run.Create(_tables.Plan(numInferenceSteps, roundSolvedTimesteps: true), Config));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    private sealed class Run(double[] timesteps, SigmaPlan plan, double[] mids, double[] downs, double[] ups, SchedulerConfig config)
        : SigmaRun(timesteps, plan.InitNoiseSigma, config.PredictionType, plan.TwoStageLevels(timesteps))
    {
        private readonly NoiseSource _noise = new(config.NoiseSampler, plan.Sigmas, "dpm2_ancestral");
        // diffusers' layout: [v0, v1, v1, v2, v2, ..., vn, vn, vn], indexed by the step index.
        private readonly double[] _sigmas = Layout(plan.Sigmas), _mids = Layout(mids), _downs = Layout(downs), _ups = Layout(ups);
        private torch.Tensor? _sample;

        public static Run Create(SigmaPlan plan, SchedulerConfig config)
        {
            var s = plan.Sigmas; // n + 1, ending at 0
            int n = s.Length - 1;
            var split = Enumerable.Range(0, n + 1).Select(i => i < n ? AncestralSplit((float)s[i], (float)s[i + 1]) : (0.0, 0.0)).ToArray();
            var mids = SigmaTables.LogMidpoints(s, split.Select(p => p.Item1).ToArray());
            mids[n - 1] = mids[n] = 0; // diffusers' sigmas_interpol[-2:] = 0: the last step is one Euler call to 0
            var ts = plan.Timesteps.Take(1)
                .Concat(plan.Timesteps.Skip(1).SelectMany((t, j) => new[] { SigmaSchedules.SigmaToTimestep(mids[j], plan.TrainSigmas), t }));
            return new Run(ts.ToArray(), plan, mids, split.Select(p => p.Item1).ToArray(), split.Select(p => p.Item2).ToArray(), config);
        }

        /// <summary><see cref="SigmaSchedules.AncestralSplit"/> in float32, as diffusers computes its sigmas_down and sigmas_up tensors.</summary>
        private static (double Down, double Up) AncestralSplit(float from, float to)
        {
            float up = MathF.Sqrt(to * to * (from * from - to * to) / (from * from));
            return (MathF.Sqrt(MathF.Max(to * to - up * up, 0f)), up);
        }

        private static double[] Layout(double[] v) => SigmaTables.RepeatTail(v).Append(v[^1]).ToArray();

        public override int Order => 2;

        protected override double ModelSigma(int stepIndex) => _sample is null ? _sigmas[stepIndex] : _mids[stepIndex - 1];

        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            var first = _sample is null;
            var i = first ? stepIndex : stepIndex - 1;
            double sigma = _sigmas[i], sigmaMid = _mids[i];
            var x0 = PredictedOriginal(modelOutput, x, first ? sigma : sigmaMid);
            if (first)
            {
                _noise.RequireGenerator(generators);
                if (!IsLast(stepIndex)) _sample = x.clone().DetachFromDisposeScope();
                return new StepResult(x + (x - x0) / sigma * (sigmaMid - sigma), x0); // Euler to sigma_mid
            }
            var noise = _noise.Draw(modelOutput, sigma, _sigmas[i + 1], generators);
            var prev = _sample! + (x - x0) / sigmaMid * (_downs[i] - sigma) + noise * _ups[i]; // x_i to sigma_down, d at sigma_mid, then noise
            _sample!.Dispose();
            _sample = null;
            return new StepResult(prev, x0);
        }
    }
}
