using static TorchSharp.torch;

namespace Diffuse.Process;

/// <summary>
/// Importance sampling of timesteps for L_vlb (Nichol &amp; Dhariwal 2021, arXiv:2102.09672, Eq. 18): p_t proportional to
/// sqrt(E[L_t^2]) over the last <see cref="HistoryPerTerm"/> losses of each t, mixed with a little of the uniform
/// distribution, and uniform until every t has a full history; each draw carries the weight 1 / (T p_t). As
/// improved-diffusion's <c>LossSecondMomentResampler</c> (history 10, uniform mass 0.001). Stateful: one per training run.
/// </summary>
public sealed class LossAwareTimestepSampler
{
    private readonly double[,] _history;
    private readonly int[] _counts;

    public LossAwareTimestepSampler(int numTimesteps, int historyPerTerm = 10, double uniformProbability = 0.001)
    {
        if (numTimesteps < 1) throw new DiffuseException($"the timestep sampler needs at least one timestep, got {numTimesteps}");
        if (historyPerTerm < 1) throw new DiffuseException($"the loss history per timestep must hold at least one loss, got {historyPerTerm}");
        if (!(uniformProbability >= 0 && uniformProbability <= 1)) throw new DiffuseException($"the uniform probability must lie in [0, 1], got {uniformProbability}");
        HistoryPerTerm = historyPerTerm;
        UniformProbability = uniformProbability;
        _history = new double[numTimesteps, historyPerTerm];
        _counts = new int[numTimesteps];
    }

    public int NumTimesteps => _counts.Length;
    public int HistoryPerTerm { get; }
    public double UniformProbability { get; }

    /// <summary>Whether every timestep has a full history (before that, draws are uniform).</summary>
    public bool WarmedUp => _counts.All(c => c == HistoryPerTerm);

    /// <summary>The sampling probabilities p_t [T].</summary>
    public double[] Probabilities()
    {
        int n = NumTimesteps;
        if (!WarmedUp) return Enumerable.Repeat(1.0 / n, n).ToArray();
        var weights = new double[n];
        for (int t = 0; t < n; t++)
        {
            double sum = 0;
            for (int k = 0; k < HistoryPerTerm; k++) sum += _history[t, k] * _history[t, k];
            weights[t] = Math.Sqrt(sum / HistoryPerTerm);
        }
        double total = weights.Sum();
        return weights.Select(w => (total > 0 ? w / total : 1.0 / n) * (1 - UniformProbability) + UniformProbability / n).ToArray();
    }

    /// <summary>Draws <paramref name="batchSize"/> timesteps from p_t with <paramref name="generator"/>, with weights 1 / (T p_t).</summary>
    public TimestepDraw Sample(long batchSize, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var p = Probabilities();
        using var scope = NewDisposeScope();
        var probabilities = tensor(p, float64);
        var t = multinomial(probabilities, batchSize, replacement: true, generator: generator);
        var weights = 1.0 / (probabilities.index_select(0, t) * NumTimesteps);
        return new TimestepDraw(t.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    /// <summary>A copy of the sampler's state (its loss history), for a checkpoint.</summary>
    public LossHistory State()
    {
        var losses = new double[_history.Length];
        Buffer.BlockCopy(_history, 0, losses, 0, losses.Length * sizeof(double));
        return new LossHistory(tensor(losses, float64).reshape(NumTimesteps, HistoryPerTerm), tensor(_counts.Select(c => (long)c).ToArray(), int64));
    }

    /// <summary>
    /// Restores a state from <see cref="State"/> of a sampler of the same size; anything else is a one-line
    /// <see cref="DiffuseException"/> that changes nothing.
    /// </summary>
    public void Restore(LossHistory state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Check(state);
        var losses = state.Losses.contiguous().data<double>().ToArray();
        var counts = state.Counts.data<long>().ToArray();
        Buffer.BlockCopy(losses, 0, _history, 0, losses.Length * sizeof(double));
        for (int t = 0; t < counts.Length; t++) _counts[t] = (int)counts[t];
    }

    /// <summary>Throws unless <paramref name="state"/> fits this sampler (shapes, dtypes, counts in [0, K], finite losses).</summary>
    public void Check(LossHistory state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Losses.dtype != ScalarType.Float64 || !state.Losses.shape.SequenceEqual(new long[] { NumTimesteps, HistoryPerTerm }))
            throw new DiffuseException($"the timestep sampler's loss history must be float64 [{NumTimesteps}, {HistoryPerTerm}], got {state.Losses.dtype} [{string.Join(", ", state.Losses.shape)}]");
        if (state.Counts.dtype != ScalarType.Int64 || !state.Counts.shape.SequenceEqual(new long[] { NumTimesteps }))
            throw new DiffuseException($"the timestep sampler's counts must be int64 [{NumTimesteps}], got {state.Counts.dtype} [{string.Join(", ", state.Counts.shape)}]");
        if (state.Counts.data<long>().ToArray().Any(c => c < 0 || c > HistoryPerTerm))
            throw new DiffuseException($"the timestep sampler's counts must lie in [0, {HistoryPerTerm}]");
        if (state.Losses.contiguous().data<double>().ToArray().Any(l => !double.IsFinite(l)))
            throw new DiffuseException("the timestep sampler's loss history holds a non-finite loss");
    }

    /// <summary>Records the per-sample losses <paramref name="losses"/> [B] at timesteps <paramref name="timesteps"/> [B], oldest first out.</summary>
    public void Update(Tensor timesteps, Tensor losses)
    {
        using var scope = NewDisposeScope();
        var ts = timesteps.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        var ls = losses.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        if (ts.Length != ls.Length) throw new DiffuseException($"got {ts.Length} timesteps but {ls.Length} losses");
        for (int i = 0; i < ts.Length; i++)
        {
            var t = (int)ts[i];
            if (t < 0 || t >= NumTimesteps) throw new DiffuseException($"timestep {t} is outside [0, {NumTimesteps})");
            if (_counts[t] == HistoryPerTerm)
            {
                for (int k = 1; k < HistoryPerTerm; k++) _history[t, k - 1] = _history[t, k];
                _history[t, HistoryPerTerm - 1] = ls[i];
            }
            else _history[t, _counts[t]++] = ls[i];
        }
    }
}
