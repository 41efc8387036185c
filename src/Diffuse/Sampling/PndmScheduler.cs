using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// PNDM (Liu et al. 2022, arXiv:2202.09778) with diffusers' <c>PNDMScheduler</c> semantics (F-PNDM): three
/// pseudo Runge-Kutta steps of four model calls each (PRK, Eq. 13) warm up a pseudo linear multistep
/// method of order 4 (PLMS, Eq. 12); with <c>skip_prk_steps</c> the multistep starts at once from a
/// pseudo-Heun first step (crowsonkb's PLMS). Every update is the transfer phi of Eq. 9 (a DDIM step),
/// with v read as eps at the step's anchor sample after the outputs are combined, as diffusers does.
/// <c>prediction_type</c> sample is refused (diffusers: epsilon or v_prediction); the last step lands on
/// abar = 1 with <c>set_alpha_to_one</c> (diffusers' default for PNDM: false, abar_0). Keys that PNDM does
/// not read (eta, clip_sample, variance_type, the sigma and solver options) are ignored.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>abar, abarPrev</term><description>alpha_t and alpha_{t-delta} of Eq. 9 (cumulative)</description></item>
/// <item><term>e</term><description>the stored model outputs e_t of Eq. 12, oldest first (diffusers' <c>ets</c>)</description></item>
/// <item><term>counter</term><description>model calls so far; PRK while it is below the 12 PRK timesteps</description></item>
/// </list>
/// </remarks>
public sealed class PndmScheduler : IScheduler
{
    /// <summary>The Runge-Kutta warm-up covers the top <see cref="PndmOrder"/> timesteps (diffusers' <c>pndm_order</c>).</summary>
    private const int PndmOrder = 4;

    private readonly NoiseSchedule _schedule;
    private readonly GaussianDiffusion _diffusion;
    private readonly double _finalAlphaCumprod;

    public PndmScheduler(SchedulerConfig config)
    {
        ConfigValidation.Check(config, "pndm");
        ConfigValidation.CheckPredictionType(config, "pndm", ConfigValidation.EpsilonOrV);
        Config = config;
        _schedule = NoiseSchedule.FromConfig(config);
        _diffusion = new GaussianDiffusion(_schedule, config.PredictionType);
        _finalAlphaCumprod = (config.SetAlphaToOne ?? false) ? 1.0 : _schedule.AlphaCumprod(0);
    }

    public string Name => "pndm";

    /// <summary>epsilon and v_prediction, as diffusers' PNDMScheduler (which raises for <c>sample</c>).</summary>
    public IReadOnlyList<PredictionType> SupportedPredictionTypes => ConfigValidation.EpsilonOrV;

    public SchedulerConfig Config { get; }

    public SamplingRun Begin(int numInferenceSteps)
    {
        var (prk, plms) = Timesteps(numInferenceSteps);
        return new Run(this, numInferenceSteps, prk, plms);
    }

    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _diffusion.QSample(x0, t, noise);

    /// <summary>
    /// diffusers' <c>prk_timesteps</c> and <c>plms_timesteps</c> from the n spaced timesteps d_0 &gt; ... &gt; d_{n-1}:
    /// PRK visits d_0, then d_k + h twice and d_k twice for k = 1 .. 3 (h = T/n/2), but d_3 once; PLMS visits
    /// d_3 .. d_{n-1}. With <c>skip_prk_steps</c>: no PRK, and PLMS visits d_0, d_1, d_1, d_2, ..., d_{n-1}.
    /// </summary>
    private (long[] Prk, long[] Plms) Timesteps(int n)
    {
        var d = StepMath.Timesteps(Config.TimestepSpacing ?? TimestepSpacing.Leading, Config.NumTrainTimesteps, n, Config.StepsOffset);
        if (Config.SkipPrkSteps) return ([], n == 1 ? d : [d[0], d[1], .. d[1..]]);
        if (n < PndmOrder)
            throw new DiffuseException($"pndm: the Runge-Kutta warm-up needs at least {PndmOrder} inference steps, got {n}; use more steps or skip_prk_steps true");
        var h = Config.NumTrainTimesteps / n / 2;
        var prk = new List<long> { d[0] };
        for (var k = 1; k < PndmOrder; k++) prk.AddRange([d[k] + h, d[k] + h, d[k], d[k]]);
        return ([.. prk.SkipLast(1)], d[(PndmOrder - 1)..]);
    }

    /// <summary>
    /// The transfer part phi of Eq. 9 (Liu et al. 2022) from x_t to x_prevT given eps; a v output is read as eps at
    /// (x, t). Equal to DDIM's deterministic step: sqrt(abarPrev/abar) x - (abarPrev - abar) eps / (abar
    /// sqrt(1 - abarPrev) + sqrt(abar (1 - abar) abarPrev)).
    /// </summary>
    private torch.Tensor Transfer(torch.Tensor x, long t, long prevT, torch.Tensor output)
    {
        double abar = _schedule.AlphaCumprod((int)t), abarPrev = prevT >= 0 ? _schedule.AlphaCumprod((int)prevT) : _finalAlphaCumprod;
        var eps = GaussianDiffusion.PredictedEpsilon(Config.PredictionType, output, x, abar);
        var denominator = abar * Math.Sqrt(1 - abarPrev) + Math.Sqrt(abar * (1 - abar) * abarPrev);
        return x * Math.Sqrt(abarPrev / abar) - eps * (abarPrev - abar) / denominator;
    }

    private sealed class Run(PndmScheduler scheduler, int n, long[] prk, long[] plms) : SamplingRun
    {
        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => scheduler.AddNoise(x0, noise, t);

        private readonly torch.Tensor _timesteps = StepMath.RunOwned([.. prk, .. plms]);
        private readonly List<torch.Tensor> _e = []; // outputs the multistep combines, oldest first, at most 4; owned by the run
        private torch.Tensor? _anchor, _rkSum; // the sample a PRK group (or the first PLMS pair) starts from; the running RK4 sum
        private int _counter;

        public override torch.Tensor Timesteps => _timesteps;

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
        {
            var c = scheduler.Config;
            var timestep = StepMath.Timestep(t, c.NumTrainTimesteps);
            var total = prk.Length + plms.Length;
            if (_counter >= total) throw new DiffuseException($"pndm: the run's {total} steps are done; begin a new run");
            var prev = _counter < prk.Length ? RungeKutta(modelOutput, timestep, x) : Multistep(modelOutput, timestep, x);
            _counter++;
            // diffusers returns no x_0; this is the one the raw output implies at (x, t).
            var x0 = GaussianDiffusion.PredictedOriginal(c.PredictionType, modelOutput, x, scheduler._schedule.AlphaCumprod((int)timestep));
            if (_counter == total) End();
            return new StepResult(prev, x0);
        }

        /// <summary>
        /// Call k of a PRK group (Eq. 13, Liu et al. 2022): each call transfers the group's anchor sample at its first
        /// timestep, to t - h after calls 0 and 2 and to t after calls 1 and 3, the last with the RK4 mean of the
        /// four outputs (weights 1/6, 1/3, 1/3, 1/6).
        /// </summary>
        private torch.Tensor RungeKutta(torch.Tensor output, long t, torch.Tensor x)
        {
            var prevT = t - (_counter % 2 == 1 ? 0 : scheduler.Config.NumTrainTimesteps / n / 2);
            switch (_counter % 4)
            {
                case 0: Keep(ref _rkSum, output * (1.0 / 6)); Push(output); Keep(ref _anchor, x.alias()); break;
                case 3: output = _rkSum! + output * (1.0 / 6); Keep(ref _rkSum, null); break;
                default: Keep(ref _rkSum, _rkSum! + output * (1.0 / 3)); break;
            }
            return scheduler.Transfer(_anchor ?? x, prk[_counter / 4 * 4], prevT, output);
        }

        /// <summary>
        /// PLMS (Eq. 12, Liu et al. 2022): Adams-Bashforth of the order the stored outputs allow, up to 4. The second
        /// call redoes the first step from its anchor with the mean of both outputs (a pseudo-Heun step) and stores nothing.
        /// </summary>
        private torch.Tensor Multistep(torch.Tensor output, long t, torch.Tensor x)
        {
            var stride = scheduler.Config.NumTrainTimesteps / n;
            long from = t, to = t - stride;
            if (_counter != 1) Push(output);
            else (from, to) = (t + stride, t);
            var e = _e;
            var combined = (e.Count, _counter) switch
            {
                (1, 0) => output.alias(),
                (1, 1) => (output + e[^1]) / 2,
                (2, _) => (e[^1] * 3 - e[^2]) / 2,
                (3, _) => (e[^1] * 23 - e[^2] * 16 + e[^3] * 5) / 12,
                _ => (e[^1] * 55 - e[^2] * 59 + e[^3] * 37 - e[^4] * 9) * (1.0 / 24),
            };
            var firstPair = e.Count == 1 && _counter <= 1;
            var prev = scheduler.Transfer(firstPair && _counter == 1 ? _anchor! : x, from, to, combined);
            if (firstPair) Keep(ref _anchor, _counter == 0 ? x.alias() : null);
            return prev;
        }

        /// <summary>Stores an output, keeping the last four (diffusers' <c>ets[-3:] + [output]</c>).</summary>
        private void Push(torch.Tensor output)
        {
            _e.Add(output.alias().DetachFromDisposeScope());
            if (_e.Count > PndmOrder) { _e[0].Dispose(); _e.RemoveAt(0); }
        }

        /// <summary>Replaces a tensor the run keeps across steps, releasing the old one.</summary>
        private static void Keep(ref torch.Tensor? field, torch.Tensor? value)
        {
            field?.Dispose();
            field = value?.DetachFromDisposeScope();
        }

        private void End()
        {
            _e.ForEach(o => o.Dispose());
            _e.Clear();
            Keep(ref _anchor, null);
            Keep(ref _rkSum, null);
        }
    }
}
