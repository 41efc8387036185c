using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// Singlestep DPM-Solver (Lu et al. 2022, arXiv:2206.00927, Algorithms 1-2: DPM-Solver-2 and -3) and DPM-Solver++(2S)
/// and (3S) (Lu et al. 2022, arXiv:2211.01095, Algorithm 1) with diffusers' <c>DPMSolverSinglestepScheduler</c>
/// semantics. The timesteps are cut into blocks by diffusers' order list (<c>get_order_list</c>: [1, 2, 1, 2, ...] for
/// order 2); a block of order k starts from the sample x_s at its first step, and its j-th step goes from x_s straight
/// to the next timestep with the model outputs of the block so far, so the last step of a block is a k-th order
/// singlestep update whose intermediate points are the block's own timesteps. Keys: <c>solver_order</c> 1-3,
/// <c>algorithm_type</c> dpmsolver / dpmsolver++ / sde-dpmsolver++ (one normal draw per step), <c>solver_type</c>
/// midpoint or heun, <c>lower_order_final</c> (default false; turned on, as diffusers does, when n is not a
/// multiple of the order or the run ends at sigma 0), <c>final_sigmas_type</c>, dynamic thresholding, Karras or
/// exponential sigmas, <c>lambda_min_clipped</c>, all three prediction types.
/// </summary>
/// <remarks>
/// Where this differs from diffusers: <c>timestep_spacing</c> and <c>steps_offset</c> are honoured as in the
/// multistep solver (diffusers' singlestep scheduler has neither key and always spaces like <c>linspace</c>, the
/// default here); dpmsolver with thresholding reads x_0 at the step's sigma (diffusers indexes its tables with a
/// missing timestep there and fails); the third-order heun step of sde-dpmsolver++ weights D2 by
/// <see cref="DpmSolverMath.Coefficients"/>' exact coefficient (diffusers' has the wrong sign on its 1/2); a run's
/// <c>lower_order_final</c> is decided per run (diffusers writes the forced value back into its config).
/// <c>euler_at_final</c> is ignored (not a key of this scheduler in diffusers). <c>variance_type</c> learned or
/// learned_range reads the first half of the output's channels (<see cref="DpmSolverMath.PredictionPart"/>).
/// Beta and flow sigmas are not supported.
/// <list type="table">
/// <item><term>s, x_s</term><description>the index and the sample where the current block started</description></item>
/// <item><term>r0, r1</term><description>(lambda_i - lambda_s) / h and (lambda_{i-1} - lambda_s) / h, h = lambda_{i+1} - lambda_s</description></item>
/// <item><term>D0, D1, D2</term><description>the output at s, h times its first derivative in lambda and h^2 times its second</description></item>
/// </list>
/// </remarks>
public sealed class DpmSolverSinglestepScheduler : IScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly bool _midpoint;

    public DpmSolverSinglestepScheduler(SchedulerConfig config)
    {
        ConfigValidation.CheckMultistep(config, Name, maxOrder: 3, takesNoiseSampler: config.AlgorithmType == AlgorithmType.SdeDpmsolverPlusPlus);
        var solverType = config.SolverType ?? SolverType.Midpoint;
        if (solverType is not (SolverType.Midpoint or SolverType.Heun))
            throw new DiffuseException($"{Name}: solver_type must be midpoint or heun, got {solverType.ToString().ToLowerInvariant()}");
        if (config.AlgorithmType is not (AlgorithmType.Dpmsolver or AlgorithmType.DpmsolverPlusPlus or AlgorithmType.SdeDpmsolverPlusPlus))
            throw new DiffuseException($"{Name}: algorithm_type must be dpmsolver, dpmsolver++ or sde-dpmsolver++, got {IO.Json.Name(config.AlgorithmType)}");
        if (!DpmSolverMath.DataPrediction(config.AlgorithmType) && (config.FinalSigmasType ?? FinalSigmasType.Zero) == FinalSigmasType.Zero)
            throw new DiffuseException($"{Name}: final_sigmas_type zero needs algorithm_type dpmsolver++ or sde-dpmsolver++; set final_sigmas_type sigma_min");
        Config = config;
        _midpoint = solverType == SolverType.Midpoint;
        _schedule = NoiseSchedule.FromConfig(config);
        _lastRun = MultistepSchedule.TrainingLevels(_schedule);
    }

    private volatile NoiseLevels _lastRun;

    public string Name => "dpmpp_2s";
    public bool TakesVarianceChannels => Config.VarianceType is VarianceType.Learned or VarianceType.LearnedRange;

    public SchedulerConfig Config { get; }

    public SamplingRun Begin(int numInferenceSteps)
    {
        var schedule = MultistepSchedule.Create(Config, _schedule, numInferenceSteps, Name, roundKarrasTimesteps: true, lambdaMinClipped: Config.LambdaMinClipped);
        int n = schedule.Count, order = Config.SolverOrder;
        var lowerFinal = (Config.LowerOrderFinal ?? false) || n % order != 0 || schedule.EndsAtZero;
        _lastRun = schedule.Levels;
        return new Run(this, schedule, OrderList(n, order, lowerFinal, schedule.EndsAtZero));
    }

    /// <summary>alpha_t x0 + sigma_t noise at the level of t in the last run begun, else on the training schedule (<see cref="IScheduler.AddNoise"/>), as diffusers.</summary>
    public torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => _lastRun.AddNoise(x0, noise, t);

    /// <summary>
    /// The order of each of n steps (diffusers' <c>get_order_list</c>): blocks [1, 2, .., k]; with
    /// <paramref name="lowerFinal"/> the tail is [1, .., n mod k], or [1, .., k-1, 1] when k divides n; the last
    /// step is first order when the run ends at sigma 0.
    /// </summary>
    internal static int[] OrderList(int n, int k, bool lowerFinal, bool endsAtZero)
    {
        int r = n % k, blocks = lowerFinal && r == 0 ? n / k - 1 : n / k;
        var tail = !lowerFinal ? Enumerable.Empty<int>() : r == 0 ? Enumerable.Range(1, k - 1).Append(1) : Enumerable.Range(1, r);
        var orders = Enumerable.Repeat(Enumerable.Range(1, k), blocks).SelectMany(b => b).Concat(tail).ToArray();
        if (endsAtZero) orders[^1] = 1;
        return orders;
    }

    /// <summary>One update of the given order from the block start s = i + 1 - order to i + 1; <paramref name="m"/> holds the outputs, newest last.</summary>
    private torch.Tensor Update(IReadOnlyList<torch.Tensor> m, int order, MultistepSchedule sch, int i, torch.Tensor xS, torch.Tensor? noise)
    {
        int s = i + 1 - order;
        double h = sch.Lambda(i + 1) - sch.Lambda(s);
        var (a, c0, c1, c2, cNoise) = DpmSolverMath.Coefficients(Config.AlgorithmType, sch.Alpha(i + 1), sch.SigmaT(i + 1), sch.Alpha(s), sch.SigmaT(s), h);
        var d0 = m[^order];
        var prev = xS * a + d0 * c0;
        double r0 = (sch.Lambda(i) - sch.Lambda(s)) / h;
        if (order == 2) prev = prev + (m[^1] - d0) * (1 / r0) * (_midpoint ? 0.5 * c0 : c1); // Lu et al. 2022b, Algorithm 1 (midpoint: r = 1/2 there)
        if (order == 3)
        {
            double r1 = (sch.Lambda(i - 1) - sch.Lambda(s)) / h;
            var d1From1 = (m[^2] - d0) * (1 / r1);
            var d1From0 = (m[^1] - d0) * (1 / r0);
            if (_midpoint) prev = prev + d1From0 * c1; // DPM-Solver-3 (Lu et al. 2022a, Algorithm 2): the last stage uses D1 at r0 only
            else
            {
                var d1 = (d1From1 * r0 - d1From0 * r1) * (1 / (r0 - r1));
                var d2 = (d1From0 - d1From1) * (2 / (r0 - r1));
                prev = prev + d1 * c1 + d2 * c2;
            }
        }
        return noise is null ? prev : prev + noise * cNoise;
    }

    private sealed class Run(DpmSolverSinglestepScheduler scheduler, MultistepSchedule schedule, int[] orders) : SamplingRun
    {
        private readonly List<torch.Tensor> _outputs = []; // converted outputs, newest last; owned by the run
        private torch.Tensor? _blockSample; // x_s: the sample at the current block's first step; owned by the run
        private readonly NoiseSource _noise = new(scheduler.Config.NoiseSampler, Enumerable.Range(0, schedule.Count + 1).Select(schedule.Sigma), scheduler.Name);
        private int _index = -1, _blockStart;

        public override torch.Tensor Timesteps => schedule.TimestepsTensor;

        public override torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t) => schedule.Levels.AddNoise(x0, noise, t);

        public override StepResult Step(torch.Tensor modelOutput, torch.Tensor t, torch.Tensor x, SampleGenerators? generators)
        {
            var c = scheduler.Config;
            modelOutput = DpmSolverMath.PredictionPart(c, modelOutput, x, scheduler.Name);
            _index = schedule.NextIndex(_index, StepMath.Timestep(t, c.NumTrainTimesteps), scheduler.Name);
            var blockStart = Math.Min(orders[_index], _outputs.Count + 1) == 1 ? _index : _blockStart;
            // The SDE step moves from the block's first sample (sigma_s) to sigma_{i+1}: its noise is the increment over that span.
            var noise = c.AlgorithmType == AlgorithmType.SdeDpmsolverPlusPlus ? _noise.Draw(modelOutput, schedule.Sigma(blockStart), schedule.Sigma(_index + 1), generators) : null;
            var (solver, original) = DpmSolverMath.Convert(c, modelOutput, x, schedule.AlphaCumprod(_index));
            _outputs.Add(solver.DetachFromDisposeScope());
            if (_outputs.Count > c.SolverOrder) { _outputs[0].Dispose(); _outputs.RemoveAt(0); }
            var order = Math.Min(orders[_index], _outputs.Count); // a run started part-way (img2img) has no earlier outputs
            if (order == 1)
            {
                _blockStart = _index;
                _blockSample?.Dispose();
                _blockSample = x.clone().DetachFromDisposeScope();
            }
            var prev = scheduler.Update(_outputs, order, schedule, _index, _blockSample!, noise);
            if (_index == schedule.Count - 1) End();
            return new StepResult(prev, original);
        }

        private void End()
        {
            _outputs.ForEach(o => o.Dispose());
            _outputs.Clear();
            _blockSample?.Dispose();
            _blockSample = null;
        }
    }
}
