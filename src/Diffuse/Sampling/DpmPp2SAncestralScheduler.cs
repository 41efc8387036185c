using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Ancestral DPM-Solver++(2S): k-diffusion's <c>sample_dpmpp_2s_ancestral</c> (eta 1, s_noise 1), the second-order
/// singlestep DPM-Solver++ (Lu et al. 2022, arXiv:2211.01095, Algorithm 1 with r = 1/2) in t = -log sigma, laid out as
/// diffusers' <c>KDPM2AncestralDiscreteScheduler</c> (diffusers has no such scheduler). Step i splits
/// sigma_i → sigma_{i+1} into sigma_down and sigma_up, takes x to the midpoint sigma_mid = sqrt(sigma_i sigma_down)
/// with the first model call, calls the model there, takes x_i to sigma_down with that second x_0, and adds noise of
/// standard deviation sigma_up. The last step (sigma_down = 0) is one Euler call with no noise. Timesteps
/// [t0, t_mid0, t1, t_mid1, ..., t_{n-1}] (Order 2), float32 sigmas and config keys as <see cref="Dpm2AncestralScheduler"/>;
/// every prediction type is accepted.
/// </summary>
/// <remarks>
/// Noise: one standard normal draw of the sample's shape per step, at its second call, none on the last step, as
/// k-diffusion's loop draws <c>noise_sampler(sigma_i, sigma_{i+1})</c> after its second model call when
/// sigma_{i+1} &gt; 0. A generator is required from the first call of every step that draws.
/// <list type="table">
/// <item><term>sigmaDown, sigmaUp</term><description>the ancestral split of sigma_i → sigma_{i+1}, <see cref="SigmaSchedules.AncestralSplit"/></description></item>
/// <item><term>h</term><description>log(sigma_i / sigma_down); the midpoint is at h / 2, so sigma_mid / sigma_i = e^(-h/2)</description></item>
/// <item><term>x_2, D_2</term><description>the sample at sigma_mid and the model's x_0 there</description></item>
/// </list>
/// </remarks>
public sealed class DpmPp2SAncestralScheduler : IScheduler
{
    private readonly SigmaTables _tables;

    public DpmPp2SAncestralScheduler(SchedulerConfig config) => _tables = new SigmaTables(config, "dpmpp_2s_ancestral", takesNoiseSampler: true);

    public string Name => "dpmpp_2s_ancestral";

    public SchedulerConfig Config => _tables.Config;

    public SamplingRun Begin(int numInferenceSteps) => _tables.Track(Run.Create(_tables.Plan(numInferenceSteps, roundSolvedTimesteps: true), Config));

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _tables.AddNoise(x0, noise, t);

    /// <summary>Step index k is the first call of step k / 2 when even, its midpoint call when odd.</summary>
    /// <remarks>AddNoise at a step's first timestep uses its sigma, at a midpoint timestep the midpoint's: the sigma the model sees there.</remarks>
    private sealed class Run(double[] timesteps, SigmaPlan plan, double[] mids, double[] downs, double[] ups, SchedulerConfig config)
        : SigmaRun(timesteps, plan.InitNoiseSigma, config.PredictionType,
            new NoiseLevels(timesteps, timesteps.Select((_, k) => k % 2 == 0 ? plan.Sigmas[k / 2] : mids[k / 2]).ToArray(), plan.TrainSigmas, variancePreserving: false))
    {
        private readonly double[] _sigmas = plan.Sigmas;
        private readonly NoiseSource _noise = new(config.NoiseSampler, plan.Sigmas, "dpmpp_2s_ancestral");
        private torch.Tensor? _sample; // x_i between the two calls of step i; owned by the run

        public static Run Create(SigmaPlan plan, SchedulerConfig config)
        {
            var s = plan.Sigmas; // n + 1, ending at 0
            int n = s.Length - 1;
            var split = Enumerable.Range(0, n).Select(i => SigmaSchedules.AncestralSplit(s[i], s[i + 1])).ToArray();
            var downs = split.Select(p => (double)(float)p.SigmaDown).ToArray();
            var mids = Enumerable.Range(0, n).Select(i => downs[i] > 0 ? (double)(float)Math.Sqrt(s[i] * downs[i]) : 0).ToArray();
            var ts = plan.Timesteps.SelectMany((t, i) => i < n - 1 ? new[] { t, SigmaSchedules.SigmaToTimestep(mids[i], plan.TrainSigmas) } : [t]);
            return new Run(ts.ToArray(), plan, mids, downs, split.Select(p => (double)(float)p.SigmaUp).ToArray(), config);
        }

        public override int Order => 2;

        protected override double ModelSigma(int stepIndex) => stepIndex % 2 == 0 ? _sigmas[stepIndex / 2] : mids[stepIndex / 2];

        protected override StepResult Step(int stepIndex, torch.Tensor modelOutput, torch.Tensor x, SampleGenerators? generators)
        {
            int i = stepIndex / 2;
            double sigma = _sigmas[i], sigmaDown = downs[i];
            if (stepIndex % 2 == 0)
            {
                if (generators is null && _sigmas[i + 1] > 0)
                    throw new DiffuseException("dpmpp_2s_ancestral: this step draws noise and needs a torch.Generator; pass one to Step");
                var x0 = PredictedOriginal(modelOutput, x, sigma);
                if (sigmaDown == 0) return new StepResult(x + (x - x0) / sigma * (sigmaDown - sigma), x0); // Euler to sigma 0
                _sample?.Dispose();
                _sample = x.clone().DetachFromDisposeScope();
                var toMid = mids[i] / sigma; // e^(-h/2)
                return new StepResult(x * toMid + x0 * (1 - toMid), x0); // DPM-Solver++(1) to sigma_mid
            }
            var xI = _sample ?? throw new DiffuseException("dpmpp_2s_ancestral: the run started at a midpoint timestep; start at a step's first timestep (an even index)");
            var d2 = PredictedOriginal(modelOutput, x, mids[i]);
            var toDown = sigmaDown / sigma; // e^(-h)
            var prev = xI * toDown + d2 * (1 - toDown) + AncestralNoise(modelOutput, generators, sigma, _sigmas[i + 1]) * ups[i];
            xI.Dispose();
            _sample = null;
            return new StepResult(prev, d2);
        }

        /// <summary>
        /// The step's fresh noise, standard normal of <paramref name="like"/>'s shape, for the move from
        /// <paramref name="sigma"/> to <paramref name="sigmaNext"/> (k-diffusion's <c>noise_sampler(sigma, sigma_next)</c>):
        /// a fresh draw from the generator, or with <c>noise_sampler brownian_tree</c> the Brownian tree's increment.
        /// </summary>
        private torch.Tensor AncestralNoise(torch.Tensor like, SampleGenerators? generators, double sigma, double sigmaNext) =>
            _noise.Draw(like, sigma, sigmaNext, generators);
    }
}
