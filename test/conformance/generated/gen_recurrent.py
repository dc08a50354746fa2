"""Generates conformance cases for RNN, GRU and LSTM that ONNX's node tests
leave out (reverse and bidirectional directions, sequence_lens, layout 1,
every activation with alpha/beta, clip, linear_before_reset, input_forget,
peepholes, a long sequence), with expected outputs from the plain numpy
reference below (ONNX Runtime's semantics: alphas/betas are consumed by the
functions that take them, with its defaults; the LSTM cell state is not
clipped before h).

    python3 gen_recurrent.py OUT_DIR
    lathe-conformance --data OUT_DIR
"""
import numpy as np, onnx, os, shutil, sys
from onnx import helper, numpy_helper, TensorProto

OUT = sys.argv[1]
shutil.rmtree(OUT, ignore_errors=True)

ACT_USES = {'Relu': (0, 0), 'Tanh': (0, 0), 'Sigmoid': (0, 0), 'Affine': (1, 1),
            'LeakyRelu': (1, 0), 'ThresholdedRelu': (1, 0), 'ScaledTanh': (1, 1),
            'HardSigmoid': (1, 1), 'Elu': (1, 0), 'Softsign': (0, 0), 'Softplus': (0, 0)}


def act(name, a, b, x):
    if name == 'Relu': return np.maximum(x, 0)
    if name == 'Tanh': return np.tanh(x)
    if name == 'Sigmoid': return 1 / (1 + np.exp(-x))
    if name == 'Affine': return a * x + b
    if name == 'LeakyRelu': return np.where(x >= 0, x, a * x)
    if name == 'ThresholdedRelu': return np.where(x > a, x, 0)
    if name == 'ScaledTanh': return a * np.tanh(b * x)
    if name == 'HardSigmoid': return np.clip(a * x + b, 0, 1)
    if name == 'Elu': return np.where(x >= 0, x, a * (np.exp(x) - 1))
    if name == 'Softsign': return x / (1 + np.abs(x))
    if name == 'Softplus': return np.log1p(np.exp(x))
    raise ValueError(name)


def reference(cell, X, W, R, B, lens, h0, c0, P, direction, acts, clip, lbr, input_forget):
    """X [seq,B,I] (layout 0); acts: list per direction of (name, alpha, beta)."""
    seq, batch, _ = X.shape
    dirs = W.shape[0]
    hidden = R.shape[2]
    G = {'rnn': 1, 'gru': 3, 'lstm': 4}[cell]
    Y = np.zeros((seq, dirs, batch, hidden), np.float64)
    Yh = np.zeros((dirs, batch, hidden)); Yc = np.zeros((dirs, batch, hidden))
    cl = (lambda v: np.clip(v, -clip, clip)) if clip is not None else (lambda v: v)
    for d in range(dirs):
        reverse = direction == 'reverse' or d == 1
        fns = acts[d]
        F = lambda i, v: act(fns[i][0], fns[i][1], fns[i][2], cl(v))
        Wd, Rd = W[d], R[d]
        Wb, Rb = B[d][:G * hidden], B[d][G * hidden:]
        for b in range(batch):
            L = lens[b]
            h = h0[d, b].astype(np.float64); c = c0[d, b].astype(np.float64)
            steps = range(L - 1, -1, -1) if reverse else range(L)
            for t in steps:
                x = X[t, b]
                xw = Wd @ x + Wb
                if cell == 'rnn':
                    h = F(0, xw + Rd @ h + Rb)
                elif cell == 'gru':
                    H_ = hidden
                    rz = Rd[:H_] @ h + Rb[:H_]; rr = Rd[H_:2 * H_] @ h + Rb[H_:2 * H_]
                    z = F(0, xw[:H_] + rz); r = F(0, xw[H_:2 * H_] + rr)
                    if lbr:
                        ht = F(1, xw[2 * H_:] + r * (Rd[2 * H_:] @ h + Rb[2 * H_:]))
                    else:
                        ht = F(1, xw[2 * H_:] + Rd[2 * H_:] @ (r * h) + Rb[2 * H_:])
                    h = (1 - z) * ht + z * h
                else:
                    H_ = hidden
                    g = xw + Rd @ h + Rb
                    gi, go, gf, gc = g[:H_], g[H_:2 * H_], g[2 * H_:3 * H_], g[3 * H_:]
                    pi, po, pf = P[d][:H_], P[d][H_:2 * H_], P[d][2 * H_:]
                    i = F(0, gi + pi * c)
                    f = 1 - i if input_forget else F(0, gf + pf * c)
                    ct = F(1, gc)
                    c = f * c + i * ct
                    o = F(0, go + po * c)
                    h = o * act(fns[2][0], fns[2][1], fns[2][2], c)  # no clip (ORT)
                Y[t, d, b] = h
            Yh[d, b] = h; Yc[d, b] = c
    return Y, Yh, Yc


def make_case(name, cell, seq=4, batch=3, inp=2, hidden=3, direction='forward', layout=0,
              bias=True, lens=None, init_h=False, init_c=False, peep=False, acts=None,
              alphas=None, betas=None, clip=None, lbr=0, input_forget=0, outputs=('Y', 'Y_h', 'Y_c'),
              opset=14, seed=0, dtype=np.float32):
    rng = np.random.RandomState(seed)
    dirs = 2 if direction == 'bidirectional' else 1
    G = {'rnn': 1, 'gru': 3, 'lstm': 4}[cell]
    X = rng.randn(seq, batch, inp).astype(dtype)
    W = (rng.randn(dirs, G * hidden, inp) * 0.5).astype(dtype)
    R = (rng.randn(dirs, G * hidden, hidden) * 0.5).astype(dtype)
    B = (rng.randn(dirs, 2 * G * hidden) * 0.5).astype(dtype)
    h0 = rng.randn(dirs, batch, hidden).astype(dtype)
    c0 = rng.randn(dirs, batch, hidden).astype(dtype)
    P = (rng.randn(dirs, 3 * hidden) * 0.5).astype(dtype)
    L = np.array(lens if lens is not None else [seq] * batch, np.int32)
    nfn = {'rnn': 1, 'gru': 2, 'lstm': 3}[cell]
    default = {'rnn': ['Tanh'], 'gru': ['Sigmoid', 'Tanh'], 'lstm': ['Sigmoid', 'Tanh', 'Tanh']}[cell]
    names = acts if acts else default * dirs
    if len(names) == nfn and dirs == 2:
        full = names * 2
    else:
        full = names
    ai = bi = 0
    resolved = []
    defaults = {'LeakyRelu': (0.01, 0), 'HardSigmoid': (0.2, 0.5), 'Elu': (1.0, 0)}
    for n_ in names:
        ua, ub = ACT_USES[n_]
        a, b = defaults.get(n_, (0.0, 0.0))
        if ua and alphas and ai < len(alphas): a = alphas[ai]; ai += 1
        if ub and betas and bi < len(betas): b = betas[bi]; bi += 1
        resolved.append((n_, a, b))
    if len(resolved) == nfn and dirs == 2:
        resolved = resolved * 2
    per_dir = [resolved[d * nfn:(d + 1) * nfn] for d in range(dirs)]
    Y, Yh, Yc = reference(cell, X.astype(np.float64), W.astype(np.float64), R.astype(np.float64),
                          B.astype(np.float64) if bias else np.zeros_like(B, np.float64), L,
                          h0.astype(np.float64) if init_h else np.zeros_like(h0, np.float64),
                          c0.astype(np.float64) if init_c else np.zeros_like(c0, np.float64),
                          P.astype(np.float64) if peep else np.zeros_like(P, np.float64),
                          direction, per_dir, clip, lbr, input_forget)
    # layout 1 views
    Xl, h0l, c0l = X, h0, c0
    if layout == 1:
        Xl = np.swapaxes(X, 0, 1).copy(); h0l = np.swapaxes(h0, 0, 1).copy(); c0l = np.swapaxes(c0, 0, 1).copy()
        Y = np.transpose(Y, (2, 0, 1, 3)); Yh = np.swapaxes(Yh, 0, 1); Yc = np.swapaxes(Yc, 0, 1)
    et = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    feeds = [('X', Xl), ('W', W), ('R', R)]
    names_in = ['X', 'W', 'R']
    if bias: feeds.append(('B', B)); names_in.append('B')
    else: names_in.append('')
    if lens is not None: feeds.append(('sequence_lens', L)); names_in.append('sequence_lens')
    else: names_in.append('')
    if init_h: feeds.append(('initial_h', h0l)); names_in.append('initial_h')
    else: names_in.append('')
    if cell == 'lstm':
        if init_c: feeds.append(('initial_c', c0l)); names_in.append('initial_c')
        else: names_in.append('')
        if peep: feeds.append(('P', P)); names_in.append('P')
        else: names_in.append('')
    while names_in and names_in[-1] == '': names_in.pop()
    attrs = dict(hidden_size=hidden, direction=direction)
    if layout: attrs['layout'] = layout
    if acts: attrs['activations'] = acts
    if alphas: attrs['activation_alpha'] = alphas
    if betas: attrs['activation_beta'] = betas
    if clip is not None: attrs['clip'] = clip
    if cell == 'gru' and lbr: attrs['linear_before_reset'] = lbr
    if cell == 'lstm' and input_forget: attrs['input_forget'] = input_forget
    all_outs = {'Y': Y, 'Y_h': Yh, 'Y_c': Yc}
    outs = [o for o in ['Y', 'Y_h', 'Y_c'] if o in outputs and (o != 'Y_c' or cell == 'lstm')]
    node_outs = []
    for o in ['Y', 'Y_h', 'Y_c'][:{'rnn': 2, 'gru': 2, 'lstm': 3}[cell]]:
        node_outs.append(o if o in outs else '')
    while node_outs[-1] == '': node_outs.pop()
    node = helper.make_node({'rnn': 'RNN', 'gru': 'GRU', 'lstm': 'LSTM'}[cell], names_in, node_outs, **attrs)
    ins = [helper.make_tensor_value_info(n_, et if n_ != 'sequence_lens' else TensorProto.INT32, v.shape) for n_, v in feeds]
    outv = [helper.make_tensor_value_info(o, et, all_outs[o].shape) for o in outs]
    graph = helper.make_graph([node], name, ins, outv)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    onnx.checker.check_model(model)
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, 'test_data_set_0'))
    onnx.save(model, os.path.join(d, 'model.onnx'))
    for i, (n_, v) in enumerate(feeds):
        onnx.save_tensor(numpy_helper.from_array(v, n_), os.path.join(d, 'test_data_set_0', f'input_{i}.pb'))
    for i, o in enumerate(outs):
        onnx.save_tensor(numpy_helper.from_array(all_outs[o].astype(dtype), o), os.path.join(d, 'test_data_set_0', f'output_{i}.pb'))


for cell in ['rnn', 'gru', 'lstm']:
    make_case(f'x_{cell}_fwd', cell)
    make_case(f'x_{cell}_rev', cell, direction='reverse', init_h=True, init_c=True)
    make_case(f'x_{cell}_bidi', cell, direction='bidirectional', init_h=True, init_c=True)
    make_case(f'x_{cell}_bidi_layout', cell, direction='bidirectional', layout=1, init_h=True, init_c=True)
    make_case(f'x_{cell}_lens', cell, lens=[4, 2, 1], init_h=True, init_c=True)
    make_case(f'x_{cell}_lens_rev', cell, direction='reverse', lens=[3, 4, 1], init_h=True)
    make_case(f'x_{cell}_lens_bidi_layout', cell, direction='bidirectional', layout=1, lens=[2, 4, 3], init_h=True, init_c=True)
    make_case(f'x_{cell}_clip', cell, clip=0.7, bias=True)
    make_case(f'x_{cell}_nobias_yh_only', cell, bias=False, outputs=('Y_h',), opset=7)
    make_case(f'x_{cell}_double', cell, direction='bidirectional', dtype=np.float64)
    make_case(f'x_{cell}_long', cell, seq=200, batch=2, hidden=4)
nfn = {'rnn': 1, 'gru': 2, 'lstm': 3}
acts_all = ['Relu', 'Tanh', 'Sigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign', 'Softplus']
k = 0
for cell in ['rnn', 'gru', 'lstm']:
    for start in range(0, len(acts_all), nfn[cell]):
        names = (acts_all[start:] + acts_all)[:nfn[cell]]
        make_case(f'x_{cell}_acts_{k}', cell, acts=names, alphas=[0.3, 0.6, 0.9], betas=[0.25, 0.5], seed=k)
        k += 1
    make_case(f'x_{cell}_acts_bidi_default_ab', cell, direction='bidirectional',
              acts=(['LeakyRelu', 'HardSigmoid', 'Elu'] * 2)[:2 * nfn[cell]], seed=99)
make_case('x_gru_lbr', 'gru', lbr=1, direction='bidirectional', init_h=True)
make_case('x_gru_lbr_lens', 'gru', lbr=1, lens=[1, 4, 3])
make_case('x_lstm_peep', 'lstm', peep=True, init_c=True, init_h=True, direction='bidirectional')
make_case('x_lstm_input_forget', 'lstm', input_forget=1, peep=True, init_c=True)
make_case('x_lstm_all', 'lstm', input_forget=1, peep=True, init_c=True, init_h=True, lens=[3, 1, 4],
          direction='bidirectional', layout=1, clip=1.5, acts=['HardSigmoid', 'Softsign', 'ScaledTanh'],
          alphas=[0.3, 0.8], betas=[0.4, 1.2])
print('ok')
